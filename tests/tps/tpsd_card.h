/* tpsd_card: talking to the card through the client (TOKEN_PDU_REQUEST / RESPONSE), the
 * APDUs of tps-protocol.md §8.1 and the GlobalPlatform secure channel (coolkey-card.md §5),
 * all crypto from tests/lib/gp_scp.h. Every answer from the card is hostile: lengths are
 * checked before use. Functions return 0 on success, -1 on failure after recording the END_OP
 * status code of the first failure in `err`. */
#ifndef TPSD_CARD_H
#define TPSD_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gp_scp.h"
#include "tpsd_conv.h"

#define TPSD_APDU_MAX 261
#define TPSD_RESP_MAX 260

struct tpsd_card {
    struct tpsd_conv *conv;
    unsigned long id;
    int err;        /* END_OP message code of the first failure, 0 = none */
    unsigned apdus; /* TOKEN_PDU exchanges so far */
    /* what the card told us */
    uint8_t cuid[10];
    char cuid_hex[21];
    uint8_t msn[4];
    uint8_t cm_aid[16];
    size_t cm_aid_len;
    bool applet_present;
    uint8_t proto_major, proto_minor, app_major, app_minor;
    unsigned long total_mem, free_mem;
    uint8_t build_id[4];
    char version[40]; /* "1.4.58768072" (decimal major.minor, build id in lowercase hex) */
    int lifecycle;    /* -1 unknown */
    enum gp_scp scp;
    bool scp_known;
    /* the open secure channel */
    struct gp_keyset keys;
    struct gp_session sess;
    bool channel_open;
    bool no_le_byte; /* channel.scp01.no.le.byte: no Le 00 after READ OBJECT / GENERATE KEY */
};

void tpsd_card_init(struct tpsd_card *k, struct tpsd_conv *conv, unsigned long id);
/* Records `code` as the failure unless one is already recorded; returns -1. */
int tpsd_card_fail(struct tpsd_card *k, int code);

/* One APDU round trip. `resp` receives the data (without SW), *rlen its length, *sw the status.
 * -1 only when the conversation itself failed (err = 28 connection lost or 1 bad message). */
int tpsd_card_apdu(struct tpsd_card *k, const uint8_t *apdu, size_t len, uint8_t *resp,
                   size_t *rlen, uint16_t *sw);
/* Secure-channel APDU: `plain` = 84 INS P1 P2 [Lc data], wrapped with gp_wrap. */
int tpsd_card_secure(struct tpsd_card *k, const uint8_t *plain, size_t len, int le_trailer,
                     uint8_t *resp, size_t *rlen, uint16_t *sw);
/* Whether READ OBJECT and GENERATE KEY carry the Le 00 trailer: always, unless no_le_byte
 * is set and the channel is SCP01 (pki SecureChannel.skipTrailerLeByteScp01). */
int tpsd_card_le_trailer(const struct tpsd_card *k);
/* Secure APDU that must answer 9000; `code` is the END_OP code when it does not. */
int tpsd_card_secure_ok(struct tpsd_card *k, const uint8_t *plain, size_t len, int code);

/* §8.2 prologue: default select + card manager, CPLC -> CUID/MSN, select CoolKey, GET STATUS,
 * GET VERSION. A missing applet is not an error (applet_present = false). */
int tpsd_card_prologue(struct tpsd_card *k);
/* Selects the CoolKey applet; 0 if it answered 9000, 1 if absent, -1 on conversation failure. */
int tpsd_card_select_applet(struct tpsd_card *k);
int tpsd_card_select_cm(struct tpsd_card *k);
/* GET LIFE CYCLE (B0 F2 00 00 01) into k->lifecycle (-1 when the card refuses). */
int tpsd_card_get_lifecycle(struct tpsd_card *k);
/* GET STATUS + GET VERSION on the selected applet (versions, memory, version string). */
int tpsd_card_read_status(struct tpsd_card *k);
/* GET DATA 0066 / 00E0 on the card manager: SCP02 when advertised (i=15), SCP01 otherwise. */
int tpsd_card_detect_protocol(struct tpsd_card *k);
/* INITIALIZE UPDATE + card cryptogram check + EXTERNAL AUTHENTICATE (C-MAC + C-DEC), on
 * whatever is selected. Session keys with the developer key set, as the TKS does for key
 * version 01 (coolkey-card.md §5.2). */
int tpsd_card_open_channel(struct tpsd_card *k);

/* Secure object I/O on the applet. */
int tpsd_card_read_object(struct tpsd_card *k, const uint8_t id[4], size_t off, size_t len,
                          uint8_t *out);
/* CREATE OBJECT with ACLs read `read_acl`, write and delete 4000 (the RA). */
int tpsd_card_create_object(struct tpsd_card *k, const uint8_t id[4], size_t size,
                            uint16_t read_acl);
/* DELETE OBJECT (84 52). */
int tpsd_card_delete_object(struct tpsd_card *k, const uint8_t id[4]);
int tpsd_card_write_object(struct tpsd_card *k, const uint8_t id[4], const uint8_t *data,
                           size_t len);
/* LIST OBJECTS; finds `id` and its size. 0 found, 1 not found, -1 failure. */
int tpsd_card_find_object(struct tpsd_card *k, const uint8_t id[4], size_t *size);

int tpsd_card_set_issuer_info(struct tpsd_card *k, const char *url);
/* CREATE PIN 0 ("password", 0x7F tries; error ignored) + SET PIN 0. */
int tpsd_card_set_pin(struct tpsd_card *k, const char *pin, size_t len);

/* "0011223344..." */
void tpsd_hex(const uint8_t *in, size_t len, char *out);

#endif
