/* coolkey (ck_): client of the CoolKey applet, as coolkey's libckyapplet talks to it
 * (reference/coolkey-card.md §2.2, §2.4, §3, §7). Each ck_ command sends one APDU (two for
 * ck_get_cplc) and checks the reply's exact length; the ck_parse_ functions are the pure,
 * fuzzed parsers behind them. Nothing here sends VERIFY PIN. */
#ifndef ESC_COOLKEY_H
#define ESC_COOLKEY_H

#include "esc_err.h"
#include "pcsc.h"

#include <stddef.h>
#include <stdint.h>

#define CK_CUID_LEN        10
#define CK_CPLC_LEN        45
#define CK_STATUS_LEN      16
#define CK_LIFE_CYCLE_LEN  4
#define CK_ISSUER_INFO_LEN 0xE0
#define CK_LIST_ENTRY_LEN  14
#define CK_READ_CHUNK      255 /* coolkey's READ OBJECT chunk */
#define CK_USER_PIN        0

#define CK_LC_PERSONALIZED 0x0F /* GP application life cycle: personalised (§2.6) */

/* Object IDs (§4.1): 4 bytes, e.g. 'z' '0' 0 0 */
#define CK_OBJ_ID(a, b) (((uint32_t)(uint8_t)(a) << 24) | ((uint32_t)(uint8_t)(b) << 16))
#define CK_OBJ_Z0       CK_OBJ_ID('z', '0')

struct ck_status { /* GET STATUS, 16 bytes */
    uint8_t proto_major, proto_minor, applet_major, applet_minor;
    uint32_t total_mem, free_mem;
    uint8_t num_pins, num_keys;
    uint16_t logged_in;
};

struct ck_life_cycle { /* GET LIFE CYCLE V2, 4 bytes */
    uint8_t life_cycle, pin_count, proto_major, proto_minor;
};

struct ck_cplc {               /* GET DATA 9F7F, 45 bytes (§3) */
    uint8_t cuid[CK_CUID_LEN]; /* fabricator(2) IC type(2) batch(2) IC serial(4) */
    uint8_t msn[4];
};

struct ck_object_info { /* LIST OBJECTS entry, 14 bytes */
    uint32_t id;
    uint32_t size;
    uint16_t read_acl, write_acl, delete_acl;
};

/* Pure parsers of the reply data (SW already stripped). Exact lengths; ESC_ERR_CARD_SHORT /
 * ESC_ERR_CARD_LONG / ESC_ERR_CARD_GARBAGE otherwise. */
esc_err ck_parse_status(const uint8_t *d, size_t n, struct ck_status *out);
esc_err ck_parse_life_cycle(const uint8_t *d, size_t n, struct ck_life_cycle *out);
esc_err ck_parse_cplc(const uint8_t *d, size_t n, struct ck_cplc *out);
esc_err ck_parse_list_entry(const uint8_t *d, size_t n, struct ck_object_info *out);
/* Issuer info: 224 bytes, text up to the first NUL; must be printable ASCII, else
 * ESC_ERR_CARD_GARBAGE. out gets "" if the field is all zero. cap >= 1. */
esc_err ck_parse_issuer_info(const uint8_t *d, size_t n, char *out, size_t cap);

/* Commands (the applet must be selected first, except ck_get_cplc which selects the card
 * manager and leaves it selected: call ck_select afterwards). */
esc_err ck_select(pcsc_card *card); /* ESC_ERR_NO_APPLET if the card refuses the AID */
esc_err ck_get_status(pcsc_card *card, struct ck_status *out);
esc_err ck_get_life_cycle(pcsc_card *card, struct ck_life_cycle *out); /* 4 B, else 1 B */
esc_err ck_get_build_id(pcsc_card *card, uint32_t *out); /* GET VERSION B0 70, 4 bytes */
esc_err ck_get_cplc(pcsc_card *card, struct ck_cplc *out);
esc_err ck_get_issuer_info(pcsc_card *card, char *out, size_t cap);
esc_err ck_get_pin_tries(pcsc_card *card, uint8_t pin, uint8_t *tries); /* INS 4A */
/* SELECT CoolKey and GET PIN REMAINING TRIES in one exchange (pcsc_batch_leave: one round
 * trip to pcscd on a direct context), then the card is disconnected and freed. Any answer but
 * 90 00 to the SELECT and one byte with 90 00 to the other: ESC_ERR_CARD_SW (NO_APPLET when the
 * SELECT said so). */
esc_err ck_pin_tries_leave(pcsc_card *card, uint8_t pin, uint8_t *tries);
/* LIST OBJECTS until 9C12; ESC_ERR_TOO_BIG if more than max. */
esc_err ck_list_objects(pcsc_card *card, struct ck_object_info *out, size_t max, size_t *count);
/* READ OBJECT id [offset, offset+len) into buf in CK_READ_CHUNK pieces with the all-zero
 * nonce; each reply must be exactly the requested length. */
esc_err ck_read_object(pcsc_card *card, uint32_t id, size_t offset, uint8_t *buf, size_t len);

/* "4090A1B2..." : 20 hex digits + NUL */
void ck_cuid_hex(const uint8_t cuid[CK_CUID_LEN], char out[2 * CK_CUID_LEN + 1]);
/* Object id as text: "z0", or hex for non-printable ids. out >= 9 bytes. */
void ck_obj_id_str(uint32_t id, char out[9]);

#endif
