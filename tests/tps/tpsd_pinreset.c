/* tpsd_pinreset: RESET_PIN (tps-protocol.md §8.5). Only for an active token owned by the
 * authenticated user: 27 (not PIN-resettable) or 43 (not the owner) otherwise. */
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
    return 0;
}
