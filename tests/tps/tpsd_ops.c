/* tpsd_ops: from BEGIN_OP to the operation: extensions, token type, prologue, token record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpsd_log.h"
#include "tpsd_op.h"

/* Reads the BEGIN_OP extensions (tps-protocol.md §3) the TPS acts on. */
static int read_extensions(struct tpsd_op *op, const struct tps_msg *begin)
{
    const struct tps_field *f = tps_msg_get(begin, "extensions");
    struct tps_msg *ext;
    const char *v;
    int ret = 0;
    snprintf(op->type_name, sizeof(op->type_name), "%s", op->cfg->default_type);
    if (!f)
        return 0;
    ext = malloc(sizeof(*ext));
    if (!ext)
        return -1;
    if (tps_kvlist_decode(ext, f->val, f->len) < 0) {
        tpsd_log(op->id, "BEGIN_OP extensions are malformed");
        ret = -1;
        goto out;
    }
    v = tps_msg_str(ext, "tokenType");
    if (v && strlen(v) < sizeof(op->type_name))
        snprintf(op->type_name, sizeof(op->type_name), "%s", v);
    v = tps_msg_str(ext, "statusUpdate");
    op->status_update = v && strcmp(v, "true") == 0;
    /* Dogtag: any non-null value selects EXTENDED_LOGIN (TPSProcessor.requestUserId) */
    op->ext_login = tps_msg_get(ext, "extendedLoginRequest") != NULL;
    v = tps_msg_str(ext, "clientVersion");
    tpsd_log(op->id, "client %s, tokenType %s%s%s", v ? v : "(unnamed)", op->type_name,
             op->status_update ? ", status updates" : "", op->ext_login ? ", extended login" : "");
out:
    free(ext);
    return ret;
}

int tpsd_op_run(struct tpsd_op *op, const struct tps_msg *begin)
{
    long code;
    int rc;
    if (tps_msg_long(begin, "operation", 0, 99, &code) < 0) {
        tpsd_log(op->id, "BEGIN_OP without an operation");
        return TPSD_ST_SNAC;
    }
    op->op = (int)code;
    if (read_extensions(op, begin) < 0)
        return TPSD_ST_SNAC;
    op->type = tpsd_type_from_name(op->type_name);
    if (op->type < 0) {
        tpsd_log(op->id, "unknown token type '%s'", op->type_name);
        return TPSD_ST_MAPPING_RESOLVER_FAILED;
    }
    tpsd_log(op->id, "operation %s", tps_op_name(op->op));
    /* TPSSession.process: RENEW (4), UNBLOCK (2) and any other operation do nothing and are
     * answered END_OP result=1 message=0 at once; renewal is part of ENROLL */
    if (op->op != TPS_OP_ENROLL && op->op != TPS_OP_FORMAT && op->op != TPS_OP_RESET_PIN)
        return -1;
    if (op->op == TPS_OP_RESET_PIN && tpsd_op_status(op, 10, "PROGRESS_START_PIN_RESET") < 0)
        return tpsd_op_err(op, TPSD_ST_CONN_LOST);
    if (tpsd_card_prologue(&op->card) < 0)
        return tpsd_op_err(op, TPSD_ST_CANNOT_ESTABLISH_COMMUNICATION);
    rc = tpsd_op_load_token(op);
    if (rc)
        return rc;
    switch (op->op) {
    case TPS_OP_ENROLL:
        return tpsd_enroll(op);
    case TPS_OP_FORMAT:
        return tpsd_format(op, false);
    case TPS_OP_RESET_PIN:
        if (!op->have_token && !op->card.applet_present)
            return TPSD_ST_UNKNOWN_TOKEN;
        return tpsd_pinreset(op);
    default:
        return -1;
    }
}
