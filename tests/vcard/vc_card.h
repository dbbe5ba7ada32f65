/* vc_card.h: the virtual CoolKey card's core: a GlobalPlatform card manager (ISD) with
 * SCP01/SCP02 and the CoolKey applet (shared/reference/coolkey-card.md §1-§8), driven one
 * APDU at a time. No I/O here: the vpcd transport (vc_vpcd.h) and the unit tests feed it.
 *
 * The struct is split into what a real card keeps in EEPROM (saved in the state file by
 * vc_state.c) and what it loses on reset (nonce, logins, IO buffer, secure channel). */
#ifndef ESC_VC_CARD_H
#define ESC_VC_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "gp_scp.h"

#define VC_MAX_PINS     8   /* CardEdge MAX_NUM_PINS */
#define VC_MAX_KEYS     24  /* CardEdge MAX_NUM_KEYS */
#define VC_MAX_OBJS     48  /* the applet's object memory runs out well before this */
#define VC_IOBUF_MAX    900 /* CardEdge IOBUF_ALLOC */
#define VC_ISSUER_LEN   0xE0
#define VC_MAX_KEYSETS  4
#define VC_DEFAULT_MEM  5000      /* coolkey-card.md §2.7 */
#define VC_RESP_MAX     (258 + 2) /* data + SW */
#define VC_PIN_MAX      16
#define VC_CPLC_LEN     45
#define VC_MAX_RSA_BITS 2048

/* Identities (coolkey-card.md §2 "Identities / ACL bits") */
#define VC_ID_RA      0x4000
#define VC_ID_DEFAULT 0x8000

/* Life cycle values (coolkey-card.md §2.6) */
#define VC_LC_SELECTABLE   0x07
#define VC_LC_PERSONALIZED 0x0F

/* Status words */
#define SW_OK               0x9000
#define SW_NO_MEMORY        0x9C01
#define SW_AUTH_FAILED      0x9C02
#define SW_NOT_ALLOWED      0x9C03
#define SW_UNSUPPORTED      0x9C05
#define SW_UNAUTHORIZED     0x9C06
#define SW_OBJ_NOT_FOUND    0x9C07
#define SW_OBJ_EXISTS       0x9C08
#define SW_SIG_INVALID      0x9C0B
#define SW_BLOCKED          0x9C0C
#define SW_INVALID_PARAM    0x9C0F
#define SW_BAD_P1           0x9C10
#define SW_BAD_P2           0x9C11
#define SW_SEQ_END          0x9C12
#define SW_DIR_UNSUPPORTED  0x9C13
#define SW_DIR_INVALID      0x9C14
#define SW_LOC_INVALID      0x9C16
#define SW_KEYTYPE_UNSUPP   0x9C17
#define SW_KEYTYPE_INVALID  0x9C18
#define SW_CHUNK_SIZE       0x9C19
#define SW_KEY_SIZE         0x9C1A
#define SW_MODE_UNSUPPORTED 0x9C1B
#define SW_MODE_INVALID     0x9C1C
#define SW_OUT_TOO_SMALL    0x9C1D
#define SW_KEY_PAIRING      0x9C1E
#define SW_BAD_WRAPPED_KEY  0x9C20
#define SW_BAD_WRAPPED_PRIV 0x9C22
#define SW_INTERNAL         0x9CFF
#define SW_WRONG_LENGTH     0x6700
#define SW_AUTH_METHOD      0x6300
#define SW_SECURITY         0x6982
#define SW_CONDITIONS       0x6985
#define SW_WRONG_DATA       0x6A80
#define SW_FILE_NOT_FOUND   0x6A82
#define SW_WRONG_P1P2       0x6A86
#define SW_REF_NOT_FOUND    0x6A88
#define SW_INS_UNSUPPORTED  0x6D00
#define SW_CLA_UNSUPPORTED  0x6E00

/* CardEdge key types (LIST KEYS, key blobs) */
#define VC_KEY_RSA_PUBLIC      1
#define VC_KEY_RSA_PRIVATE_CRT 3
#define VC_KEY_RSA_PKCS8_PAIR  9

enum vc_selected { VC_SEL_CM, VC_SEL_APPLET };
enum vc_channel { VC_CHAN_NONE, VC_CHAN_INITIALIZED, VC_CHAN_OPEN };

struct vc_pin {
    bool present;
    uint8_t value[VC_PIN_MAX];
    uint8_t len;
    uint8_t max_tries, tries_left;
};

struct vc_object {
    uint8_t id[4];
    uint16_t acl[3]; /* read, write, delete */
    uint8_t *data;
    size_t size;
};

struct vc_key {
    uint8_t type; /* 0 = empty slot, else VC_KEY_RSA_* */
    int mate;     /* -1 = none */
    uint16_t bits;
    uint16_t acl[3]; /* read, write, use */
    EVP_PKEY *pkey;
};

/* One parsed command APDU (short form). */
struct vc_apdu {
    uint8_t cla, ins, p1, p2;
    uint8_t p3;          /* raw P3 (Lc or Le), 0 for a 4-byte case-1 APDU */
    const uint8_t *data; /* Lc bytes of command data */
    size_t lc;
    bool has_data;
};

/* Response under construction: data bytes; the handler returns the SW. */
struct vc_resp {
    uint8_t data[VC_RESP_MAX];
    size_t len;
};

struct vc_card {
    /* --- persistent (card EEPROM, saved by vc_state.c) --- */
    uint8_t cplc[VC_CPLC_LEN];
    int scp; /* 1 or 2: what INITIALIZE UPDATE and GET DATA 0066 advertise */
    struct gp_keyset keysets[VC_MAX_KEYSETS];
    size_t n_keysets, cur_keyset;
    uint16_t seq; /* SCP02 sequence counter */
    bool package_loaded, applet_installed;
    uint8_t lifecycle;
    uint8_t issuer[VC_ISSUER_LEN];
    uint16_t mem_size;
    uint16_t create_obj_acl, create_key_acl, create_pin_acl;
    uint8_t enable_acl_change;
    struct vc_pin pins[VC_MAX_PINS];
    struct vc_object objs[VC_MAX_OBJS]; /* creation order: LIST OBJECTS goes newest first */
    size_t n_objs;
    struct vc_key keys[VC_MAX_KEYS];

    /* --- transient (cleared on reset / power-off / removal) --- */
    enum vc_selected selected;
    enum vc_channel chan;
    struct gp_session sess;
    size_t chan_keyset;
    uint8_t host_chal[8], card_chal[8];
    uint16_t auth_id;
    uint8_t nonce[8];
    uint16_t nonce_ids;
    uint16_t login_count[VC_MAX_PINS];
    uint8_t iobuf[VC_IOBUF_MAX];
    size_t iobuf_size;
    size_t list_obj_next; /* LIST OBJECTS iterator: how many already returned */
    size_t list_key_next;
    uint8_t ciph_dir[VC_MAX_KEYS]; /* COMPUTE CRYPT Init state per key, 0 = none */
    bool load_in_progress;
    unsigned load_next_block;

    bool dirty; /* persistent state changed since the last save */
};

/* A card with a fresh card manager (developer keys, version 01), no package, no applet. */
void vc_card_init(struct vc_card *c);
void vc_card_free(struct vc_card *c);
/* Power-on / warm reset: everything transient goes, the card manager is selected. */
void vc_card_reset(struct vc_card *c);
/* Processes one command APDU; writes data || SW1 SW2 to resp (VC_RESP_MAX bytes) and returns
 * the response length (always >= 2). */
size_t vc_card_apdu(struct vc_card *c, const uint8_t *apdu, size_t len, uint8_t *resp);

/* CUID (coolkey-card.md §3) from the CPLC. */
void vc_card_cuid(const struct vc_card *c, uint8_t cuid[10]);
/* Builds CPLC data carrying `cuid` (10 bytes) and an MSN. */
void vc_cplc_build(const uint8_t cuid[10], uint8_t cplc[VC_CPLC_LEN]);
/* The applet as INSTALL leaves it: life cycle 07, no PINs, objects or keys. */
void vc_applet_wipe(struct vc_card *c, uint16_t mem_size);

/* --- internal interfaces between the card's files --- */
uint16_t vc_cm_process(struct vc_card *c, const uint8_t *raw, size_t len, const struct vc_apdu *a,
                       struct vc_resp *r);
/* INITIALIZE UPDATE, EXTERNAL AUTHENTICATE and the unwrap of a CLA 84 APDU; shared by the
 * card manager and the applet (which forwards them to the security domain). */
uint16_t vc_gp_initialize_update(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r);
uint16_t vc_gp_external_authenticate(struct vc_card *c, const uint8_t *raw, size_t len);
/* Unwraps a secured APDU into `plain` (5 + 255 bytes) and parses it into `a`. Returns SW_OK
 * or the error SW (the channel is closed on a MAC failure). */
uint16_t vc_gp_unwrap(struct vc_card *c, const uint8_t *raw, size_t len, uint8_t *plain,
                      struct vc_apdu *a);
/* The static key set the current channel was opened with. */
const struct gp_keyset *vc_gp_keys(const struct vc_card *c);

uint16_t vc_applet_process(struct vc_card *c, const uint8_t *raw, size_t len,
                           const struct vc_apdu *a, struct vc_resp *r);

/* objects (vc_objects.c) */
struct vc_object *vc_obj_find(struct vc_card *c, const uint8_t id[4]);
size_t vc_obj_free_mem(const struct vc_card *c);
/* Adds an object (no ACL checks); NULL when memory or slots run out. */
struct vc_object *vc_obj_add(struct vc_card *c, const uint8_t id[4], size_t size,
                             const uint16_t acl[3]);
void vc_obj_delete(struct vc_card *c, struct vc_object *o);
bool vc_is_iobuf_id(const uint8_t id[4]);
uint16_t vc_cmd_list_objects(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r);
uint16_t vc_cmd_create_object(struct vc_card *c, const struct vc_apdu *a);
uint16_t vc_cmd_delete_object(struct vc_card *c, const struct vc_apdu *a);
uint16_t vc_cmd_read_object(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r);
uint16_t vc_cmd_write_object(struct vc_card *c, const struct vc_apdu *a);

/* PINs (vc_pins.c) */
void vc_pin_set(struct vc_pin *p, const uint8_t *pin, size_t len, uint8_t max_tries);
void vc_logout_all(struct vc_card *c);
uint16_t vc_cmd_verify_pin(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r);
uint16_t vc_cmd_create_pin(struct vc_card *c, const struct vc_apdu *a);
uint16_t vc_cmd_change_pin(struct vc_card *c, const struct vc_apdu *a);
uint16_t vc_cmd_reset_pin(struct vc_card *c, const struct vc_apdu *a);
uint16_t vc_cmd_list_pins(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r);
uint16_t vc_cmd_pin_tries(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r);
uint16_t vc_cmd_logout(struct vc_card *c, const struct vc_apdu *a);

/* keys (vc_keys.c) */
void vc_key_clear(struct vc_key *k);
/* Installs `pkey` (private: type CRT; public: type public) in slot n with the ACLs. Takes
 * ownership of pkey. */
void vc_key_put(struct vc_card *c, unsigned n, EVP_PKEY *pkey, uint8_t type, int mate,
                const uint16_t acl[3]);
/* Generates an RSA pair into slots priv/pub as GENERATE KEY does (private use ACL `use_acl`).
 * Returns SW_OK or an error SW. */
uint16_t vc_key_generate(struct vc_card *c, unsigned priv, unsigned pub, unsigned bits,
                         uint16_t use_acl);
uint16_t vc_cmd_list_keys(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r);
uint16_t vc_cmd_generate_key(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r);
uint16_t vc_cmd_import_key(struct vc_card *c, const struct vc_apdu *a);
uint16_t vc_cmd_import_key_encrypted(struct vc_card *c, const struct vc_apdu *a);
uint16_t vc_cmd_clear_key_slots(struct vc_card *c, const struct vc_apdu *a);
uint16_t vc_cmd_compute_crypt(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r);

/* random bytes (OpenSSL RAND_bytes; aborts the command on failure) */
bool vc_random(uint8_t *out, size_t len);

#endif
