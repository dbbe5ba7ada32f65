/* tpsd_pinreset: RESET_PIN (tps-protocol.md §8.5, TPSPinResetProcessor.resetPin). Only for an
 * active token whose policy allows PIN_RESET (27 otherwise), owned by the authenticated user
 * (43 otherwise, a difference from Dogtag: README.md). RESET_PIN_RESET_TO_NO turns PIN_RESET
 * off after a successful reset. */
#include <string.h>

#include "tpsd_log.h"
#include "tpsd_op.h"

int tpsd_pinreset(struct tpsd_op *op)
{
    struct tpsd_card *k = &op->card;
    char pin[32];
    size_t pin_len = 0;
    int rc;
    if (!op->have_token) {
        rc = tpsd_op_adopt(op);
        if (rc)
            return rc;
    }
    if (tpsd_op_status(op, 15, "PROGRESS_PIN_RESET_RESOLVE_PROFILE") < 0)
        return tpsd_op_err(op, TPSD_ST_CONN_LOST);
    rc = tpsd_op_login(op, OI_RESET_PIN);
    if (rc)
        return rc;
    if (op->token.status != TS_ACTIVE) {
        tpsd_log(op->id, "token is %s: PIN reset refused", tpsd_tstatus_name(op->token.status));
        return TPSD_ST_NOT_PIN_RESETABLE;
    }
    if (!op->policy.pin_reset) {
        tpsd_log(op->id, "token policy forbids PIN reset (PIN_RESET=NO)");
        return TPSD_ST_NOT_PIN_RESETABLE;
    }
    if (op->user[0] && strcmp(op->token.owner, op->user) != 0) {
        tpsd_log(op->id, "token belongs to '%s', not '%s'", op->token.owner, op->user);
        return TPSD_ST_NOT_TOKEN_OWNER;
    }
    if (!k->applet_present || tpsd_card_select_applet(k) != 0 || tpsd_card_open_channel(k) < 0)
        return tpsd_op_err(op, TPSD_ST_SECURE_CHANNEL);
    rc = tpsd_op_new_pin(op, pin, sizeof(pin), &pin_len);
    if (rc)
        return rc;
    rc = tpsd_card_set_pin(k, pin, pin_len) < 0 ? tpsd_op_err(op, TPSD_ST_TOKEN_RESET_PIN_FAILED)
                                                : 0;
    explicit_bzero(pin, sizeof(pin));
    if (rc)
        return rc;
    if (tpsd_op_status(op, 100, "PROGRESS_PIN_RESET_COMPLETE") < 0)
        return tpsd_op_err(op, TPSD_ST_CONN_LOST);
    /* after PROGRESS_PIN_RESET_COMPLETE, as resetPin updates the record and the policy */
    if (op->policy.reset_pin_reset_to_no) {
        op->policy.pin_reset = false;
        if (tpsd_policy_format(&op->policy, op->token.policy, sizeof(op->token.policy)) < 0 ||
            tpsd_op_save_token(op, op->token.status, op->token.owner) != 0)
            return TPSD_ST_UPDATE_TOKENDB_FAILED;
        tpsd_log(op->id, "PIN reset done: the token's policy now says PIN_RESET=NO");
    }
    return 0;
}
