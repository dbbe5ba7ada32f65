/* tpsd_op: one token operation (enroll, format, PIN reset) in progress, and the steps
 * the operations share: status updates, login, NEW_PIN, applet (re)install, key generation,
 * certificate issue, writing z0. Each operation returns its END_OP message code (0 = success). */
#ifndef TPSD_OP_H
#define TPSD_OP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "testca.h"
#include "tps_msg.h"
#include "tpsd_card.h"
#include "tpsd_config.h"
#include "tpsd_conv.h"
#include "tpsd_db.h"
#include "tpsd_policy.h"
#include "tpsd_status.h"

/* Process-wide state the operations share. */
struct tpsd_ctx {
    const struct tpsd_config *cfg;
    struct testca *ca;
    char issuer_info[256]; /* phone-home URL written to cards */
};

struct tpsd_op {
    const struct tpsd_ctx *ctx;
    const struct tpsd_config *cfg;
    struct tpsd_conv *conv;
    struct tpsd_card card;
    unsigned long id;
    int op;   /* TPS_OP_* */
    int type; /* TT_* */
    char type_name[64];
    bool status_update; /* BEGIN_OP statusUpdate=true */
    bool ext_login;     /* BEGIN_OP extendedLoginRequest present */
    char user[128];     /* the authenticated user, "" without auth */
    char user_cn[128];
    bool have_token; /* token record found in the DB */
    struct tpsd_token token;
    struct tpsd_policy policy; /* default policy + the record's (TPSTokenPolicy) */
};

/* Runs the operation named in BEGIN_OP `begin`; returns the END_OP message code. */
int tpsd_op_run(struct tpsd_op *op, const struct tps_msg *begin);

/* --- shared steps (tpsd_op_common.c) --- */
/* STATUS_UPDATE <pct> <label> when the client asked for them. 0 or -1. */
int tpsd_op_status(struct tpsd_op *op, int pct, const char *label);
/* LOGIN or EXTENDED_LOGIN + LDAP check when auth is enabled for this type and operation.
 * Returns 0 or an END_OP code (14 bad credentials, 25 LDAP down). */
int tpsd_op_login(struct tpsd_op *op, int opidx);
/* NEW_PIN_REQUEST/RESPONSE; pin receives the raw value (not URL-decoded, as Dogtag).
 * Returns 0 or an END_OP code. */
int tpsd_op_new_pin(struct tpsd_op *op, char *pin, size_t cap, size_t *len);
/* Loads the token record (have_token) for the card's CUID. 0 or an END_OP code. */
int tpsd_op_load_token(struct tpsd_op *op);
/* Writes op->token (CUID from the card). 0 or an END_OP code. */
int tpsd_op_save_token(struct tpsd_op *op, enum tpsd_tstatus status, const char *owner);
/* The card's error code, or `fallback` when the card layer recorded none. */
int tpsd_op_err(struct tpsd_op *op, int fallback);

/* --- personalization (tpsd_personalize.c, tpsd_enroll.c) --- */
struct z0_cert;
/* CREATE + WRITE OBJECT z0 for these certificates on the open channel. 0 or a code. */
int tpsd_write_z0(struct tpsd_op *op, const struct z0_cert *certs, size_t n, uint16_t version);
/* SET ISSUER INFO (98), SET LIFE CYCLE 0F unless already (99). 0 or a code. */
int tpsd_op_finish_personalization(struct tpsd_op *op);
/* CLEAR KEY SLOTS; every failure is logged and ignored (SecureChannel.clearAppletKeySlotData). */
void tpsd_op_clear_key_slots(struct tpsd_op *op);
/* Appends the certificate's serial (hex) to op->token.certs. */
void tpsd_note_cert(struct tpsd_op *op, const uint8_t *der, size_t len);

/* --- z0 on the card, adoption (tpsd_adopt.c) --- */
struct tpsd_z0;
/* Reads and parses the card's z0 (open channel needed): 0, 1 when there is none, or a code. */
int tpsd_read_z0(struct tpsd_op *op, struct tpsd_z0 *z);
/* Subject attribute `nid` (NID_userId, NID_commonName) of a DER certificate. 0 or -1. */
int tpsd_cert_name(const uint8_t *der, size_t len, int nid, char *out, size_t cap);
/* Records an unknown personalized token as active, owned by its certificate's UID, with the
 * default policy. 0, or TPSD_ST_UNKNOWN_TOKEN / another code. */
int tpsd_op_adopt(struct tpsd_op *op);

/* --- applet (tpsd_applet.c) --- */
/* Deletes and reinstalls the CoolKey applet (fake load file; the virtual card treats this as
 * "fresh applet at life cycle 07"), progress from `from` to `to` percent, then selects the
 * new applet and reads its status. 0 or an END_OP code. */
int tpsd_applet_install(struct tpsd_op *op, int from, int to);

/* --- the three operations Dogtag implements (renewal is part of enroll) --- */
int tpsd_format(struct tpsd_op *op, bool forced);
int tpsd_enroll(struct tpsd_op *op);
int tpsd_pinreset(struct tpsd_op *op);

#endif
