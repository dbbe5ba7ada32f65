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
#include "ops.h"
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
    char sentence[400];       /* one clear sentence for the user */
    struct probe_facts facts; /* the card before the operation */
    bool have_after;          /* the TPS was talked to and the card read back afterwards */
    struct probe_facts after; /* the card after the operation */
    struct ph_profile profile;
    bool ph_cached;
    unsigned ph_requests;
    struct tps_op_result res;
};

/* Probe and phone home only (escctl phone-home). test: fetch without reading or writing the
 * cache. Fills out->facts, out->profile, out->ph_cached, out->ph_requests. */
esc_err agent_phone_home(const struct esc_conf *c, const char *reader, const char *url,
                         bool refresh, bool test, struct agent_op_out *out);

/* Run one operation. Renewal (TPS_OP_RENEW) is sent as an enroll (BEGIN_OP operation=1) of
 * the active token: Dogtag renews inside enroll and answers operation 4 with an error
 * (TPSSession.process). After the TPS conversation the card is read back and the outcome is
 * what the card shows (agent_op_outcome). */
esc_err agent_run_op(const struct esc_conf *c, const struct agent_op_args *a,
                     const struct tps_op_ui *ui, struct agent_op_out *out);

/* The outcome of operation `op` (TPS_OP_*) from the card before and after it. err: what the
 * TPS conversation gave (ESC_OK: END_OP result 0). On entry `sentence` holds the conversation's
 * sentence. Success only when the card shows the work (enroll: ENROLLED with certificates;
 * renew: that and a later notAfter; format: no certificate; PIN reset: PIN not blocked, tries
 * not fewer), then a sentence saying what the card now is; otherwise ESC_ERR_SERVER (or why the
 * card could not be read) with a sentence saying what it is. A failure that still changed
 * the card (enrolled, emptied, unblocked; or pulled while being written) says that too. */
esc_err agent_op_outcome(int op, const struct probe_facts *before, const struct probe_facts *after,
                         const struct tps_op_result *res, esc_err err, char *sentence, size_t cap);

#endif
