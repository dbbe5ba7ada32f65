/* tps_op: one TPS operation (enroll, format, reset-pin, renew) as a single engine.
 *
 * The engine speaks the TPS protocol (reference/tps-protocol.md §2-§6) over tps_conv, relays
 * TOKEN_PDUs to the card through `card`, and talks to the user only through two callbacks:
 * `ask` (user ID, password, new PIN, with the TPS's own labels) and `progress`. The terminal
 * (escctl) and the PAM hand-off drive the same code by supplying different callbacks.
 * The URL is checked against the trust policy before the first byte is sent, so a refused
 * host never gets to ask for a credential. */
#ifndef ESC_TPS_OP_H
#define ESC_TPS_OP_H

#include <stdbool.h>
#include <stddef.h>

#include "esc_err.h"
#include "tps_conv.h"
#include "tps_msg.h"

struct trust_policy;

#define TPS_SECRET_MAX 256 /* longest user ID, password or PIN accepted */

enum tps_ask_kind {
    TPS_ASK_TEXT,    /* echo on: user ID */
    TPS_ASK_SECRET,  /* echo off: password */
    TPS_ASK_NEW_PIN, /* echo off, asked twice by the UI, length in [min_len, max_len] */
};

struct tps_ask {
    enum tps_ask_kind kind;
    const char *id;          /* the TPS parameter id ("UID", "PASSWORD") or "new_pin" */
    const char *label;       /* what to show: the TPS's own name for it ("LDAP User ID") */
    const char *title;       /* the TPS's title ("LDAP Authentication"), may be NULL */
    const char *desc;        /* longer description, may be NULL */
    size_t min_len, max_len; /* for NEW_PIN */
    bool retry;              /* the previous answer was rejected (invalid_pw=1) */
};

struct tps_op_ui {
    /* Fill out[cap] (NUL-terminated). 0 ok, -1 the user cancelled or no answer. */
    int (*ask)(void *ctx, const struct tps_ask *q, char *out, size_t cap);
    /* pct 0..100; task = the TPS's label (e.g. PROGRESS_KEY_GENERATION). May be NULL. */
    void (*progress)(void *ctx, int pct, const char *task);
    void *ctx;
};

struct tps_card_io {
    /* Send a command APDU, get the response including SW1 SW2. 0 ok, -1 card error. */
    int (*transmit)(void *ctx, const unsigned char *apdu, size_t alen, unsigned char *resp,
                    size_t *rlen, size_t rcap);
    void *ctx;
};

struct tps_op_req {
    int op;                           /* enum tps_op */
    const char *url;                  /* TPS operation URL (phone-home <Operation>) */
    const char *token_type;           /* BEGIN_OP tokenType (enroll/format), may be NULL */
    const char *atr_hex;              /* card ATR, uppercase hex, may be NULL */
    const struct trust_policy *trust; /* trust.h: the URL check and ca_file */
    long msg_timeout_ms;              /* tps_message_timeout */
    struct op_stop *stop;             /* cancel and overall deadline (op_stop.h), or NULL */
    unsigned long max_msgs;           /* messages accepted from the TPS; 0 = no cap */
    /* preset answers (scripts: --user, --password-fd, --pin-fd); NULL = ask */
    const char *user;
    const char *password;
    const char *new_pin;
};

/* SET PIN (CLA 0x84 INS 0x04, Dogtag's Set_Pin_APDU) as the relay saw it: whether the new PIN
 * can be in force on a card that could not be read back afterwards. */
enum tps_pin_write {
    TPS_PIN_UNTOUCHED = 0, /* no SET PIN relayed */
    TPS_PIN_SENT,          /* SET PIN sent, no answer: the card may or may not have it */
    TPS_PIN_WRITTEN,       /* the card answered SET PIN with 90 00 */
};

/* An applet upgrade (GlobalPlatform DELETE, LOAD, INSTALL [for make selectable]) as the relay
 * saw it: whether a card that could not be read back afterwards still has its card program. */
enum tps_applet_step {
    TPS_APPLET_KEPT = 0,   /* no DELETE answered, or the new applet installed */
    TPS_APPLET_DELETING,   /* DELETE sent, no answer: the applet may be gone */
    TPS_APPLET_GONE,       /* DELETE answered 90 00, no INSTALL yet: no card program */
    TPS_APPLET_INSTALLING, /* INSTALL sent, no answer: the new applet may be there */
};

struct tps_op_result {
    esc_err err; /* also returned: see tps_op_run */
    bool end_seen;
    int end_result;     /* END_OP result */
    int end_message;    /* END_OP message (status code, §4) */
    unsigned apdus;     /* TOKEN_PDUs relayed */
    unsigned logins;    /* login requests answered */
    bool asked;         /* a credential was asked (or a preset one sent) */
    int last_pct;       /* the last progress the TPS reported (-1: none) */
    int pin_write;      /* enum tps_pin_write: how far the TPS got with SET PIN */
    int applet;         /* enum tps_applet_step: where an applet upgrade was cut */
    char sentence[320]; /* one clear sentence for the user */
    struct tps_conv_stats stats;
};

/* Run the operation; res->sentence says what happened in one sentence. Returns res->err:
 * ESC_OK when the TPS ended with END_OP result 0 (RESULT_GOOD), whatever its message code, as
 * ESC and tpsclient read it (the card itself is not checked here: agent_op reads it back);
 * ESC_ERR_AUTH_FAILED (END_OP message 14, the directory refused the login) or
 * ESC_ERR_TPS_REFUSED (any other END_OP failure, or the login asked too often);
 * ESC_ERR_UNTRUSTED_HOST (the URL refused by the trust policy: nothing was sent);
 * ESC_ERR_PCSC (the card failed a command); ESC_ERR_PROTOCOL (the TPS sent what we cannot
 * follow); ESC_ERR_CANCELLED (the user gave no answer); ESC_ERR_ARG (a preset answer is
 * unusable: PIN length, characters); else what tps_conv_run returned (network, TLS, the TPS's
 * message deadline, the stop). */
esc_err tps_op_run(const struct tps_op_req *req, const struct tps_op_ui *ui,
                   const struct tps_card_io *card, struct tps_op_result *res);

/* One sentence for an END_OP that agrees with its result (tps-protocol.md §4): result 0
 * (RESULT_GOOD) is a success sentence for `op` whatever `message` says (36 RECOVERY_IS_PROCESSED
 * and 44 RENEWAL_IS_PROCESSED name what was done); any other result is a failure sentence,
 * also for the codes that name no error (0, 36, 44). Never NULL. */
const char *tps_end_sentence(int op, int result, int message);

/* "ESC-compatible" client version sent in BEGIN_OP. */
#define TPS_CLIENT_VERSION "pam_esc 0.1"

/* The words a user sees for a TPS progress label (task_label.c):
 * PROGRESS_KEY_GENERATION -> "key generation"; unprintable bytes dropped. */
void tps_task_label(const char *task, char *out, size_t cap);

#endif
