/* tpsd_format: FORMAT (tps-protocol.md §8.3): applet reinstall, issuer info, token record reset.
 * Also the forced format an enrollment runs first on a card the TPS does not know. */
#include <string.h>

#include "tpsd_log.h"
#include "tpsd_op.h"

int tpsd_format(struct tpsd_op *op, bool forced)
{
    struct tpsd_card *k = &op->card;
    int rc;
    if (!forced) {
        rc = tpsd_op_login(op, OI_FORMAT);
        if (rc)
            return rc;
        /* TPSProcessor.format: isOperationTransitionAllowed(.., FORMATTED) or 26 */
        if (op->have_token && !tpsd_tstatus_op_allowed(op->token.status, TS_FORMATTED))
            return TPSD_ST_DISABLED_TOKEN;
        if (op->have_token && op->token.status == TS_ACTIVE && op->user[0] && op->token.owner[0] &&
            strcmp(op->token.owner, op->user) != 0) {
            tpsd_log(op->id, "token belongs to '%s', not '%s'", op->token.owner, op->user);
            return TPSD_ST_NOT_TOKEN_OWNER;
        }
    }
    /* format always (re)installs the applet (checkForAppletUpgrade/upgradeApplet) */
    rc = tpsd_applet_install(op, 10, 90);
    if (rc)
        return rc;
    if (tpsd_card_open_channel(k) < 0 || tpsd_card_set_issuer_info(k, op->ctx->issuer_info) < 0)
        return tpsd_op_err(op, TPSD_ST_SECURE_CHANNEL);
    if (tpsd_op_status(op, 100, "PROGRESS_DONE") < 0)
        return tpsd_op_err(op, TPSD_ST_CONN_LOST);
    /* checkAndUpgradeSymKeys: a fresh channel, no key changeover for the developer key set */
    if (tpsd_card_open_channel(k) < 0)
        return tpsd_op_err(op, TPSD_ST_SECURE_CHANNEL);
    k->lifecycle = 0x07;
    memset(op->token.certs, 0, sizeof(op->token.certs));
    return tpsd_op_save_token(op, TS_FORMATTED, forced ? "" : op->user);
}
