/* agent_op: a card operation from the reader to the TPS and back, shared by escctl and
 * esc-agent: probe the card (CUID, ATR, issuer info), phone home (cache first), check the TPS
 * URL against the trust policy, then run the tps_op engine relaying APDUs to the card over
 * PC/SC inside one card transaction. The user is reached only through the tps_op_ui
 * callbacks, so the terminal and the PAM hand-off drive the same code. */
#ifndef ESC_AGENT_OP_H
#define ESC_AGENT_OP_H

#include <stdbool.h>

#include "conf.h"
#include "esc_err.h"
#include "op_stop.h"
#include "phone_home.h"
#include "probe.h"
#include "tps_op.h"

struct agent_op_args {
    int op;                 /* TPS_OP_ENROLL, ..._FORMAT, ..._RESET_PIN, ..._RENEW */
    const char *reader;     /* NULL: esc.conf reader, else the first reader holding a card */
    const char *ph_url;     /* phone-home URL given on the command line, or NULL */
    bool refresh;           /* ignore the cached profile */
    const char *token_type; /* overrides the profile TokenType (BEGIN_OP tokenType), or NULL */
    const char *user;       /* preset answers, or NULL to ask */
    const char *password;
    const char *new_pin;
    /* The front's cancel and deadline (the hand-off's), or NULL. Either way the operation is
     * also bounded by esc.conf's operation_timeout, each card command by card_timeout, and
     * the TPS conversation by AGENT_OP_MAX_MESSAGES. */
    struct op_stop *stop;
};

/* Messages accepted from the TPS in one operation: an enrollment takes about 100 (64 on the
 * rig, more with an applet load); a TPS that keeps sending is stopped well before it keeps a
 * card transaction for long. */
#define AGENT_OP_MAX_MESSAGES 4000
/* SCardConnect / SCardBeginTransaction of an operation wait at most this long for a card
 * another client holds: then the card is reported busy. */
#define AGENT_OP_ACQUIRE_MS 3000

struct agent_op_out {
    esc_err err;
    char sentence[400]; /* one clear sentence for the user */
    struct probe_facts facts;
    struct ph_profile profile;
    bool ph_cached;
    unsigned ph_requests;
    struct tps_op_result res;
};

/* Probe and phone home only (escctl phone-home). test: fetch without reading or writing the
 * cache. Fills out->facts, out->profile, out->ph_cached, out->ph_requests. */
esc_err agent_phone_home(const struct esc_conf *c, const char *reader, const char *url,
                         bool refresh, bool test, struct agent_op_out *out);

/* Run one operation. */
esc_err agent_run_op(const struct esc_conf *c, const struct agent_op_args *a,
                     const struct tps_op_ui *ui, struct agent_op_out *out);

/* esc_err for an engine result / a phone-home result. */
esc_err agent_op_err(const struct tps_op_result *r);
esc_err agent_ph_err(int ph_rc);

/* TPS_OP_* from "enroll", "format", "reset-pin" (or "pinreset"), "renew"; -1 otherwise. */
int agent_op_parse(const char *name);

#endif
