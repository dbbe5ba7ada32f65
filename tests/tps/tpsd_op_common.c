/* tpsd_op_common: steps every operation shares (status updates, login, NEW_PIN, token DB). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tpsd_ldap.h"
#include "tpsd_log.h"
#include "tpsd_op.h"

int tpsd_op_err(struct tpsd_op *op, int fallback)
{
    return op->card.err ? op->card.err : fallback;
}

int tpsd_op_status(struct tpsd_op *op, int pct, const char *label)
{
    struct tps_enc e;
    struct tps_msg m;
    int rc;
    if (!op->status_update)
        return 0;
    tps_enc_init(&e, TPS_MSG_STATUS_UPDATE_REQUEST);
    tps_enc_int(&e, "current_state", pct);
    tps_enc_text(&e, "next_task_name", label, TPS_TEXT_JAVA);
    rc = tpsd_conv_exchange(op->conv, &e, &m, TPS_MSG_STATUS_UPDATE_RESPONSE);
    if (rc < 0)
        tpsd_card_fail(&op->card, op->conv->failed ? TPSD_ST_CONN_LOST : TPSD_ST_SNAC);
    return rc;
}

/* Dogtag's default ldap1 UI (CS.cfg auths.instance.ldap1.ui.*), tps-protocol.md §5 */
static const char UID_PARAM[] = "id=UID&name=LDAP User ID&desc=LDAP User ID&type=string&option=";
static const char PW_PARAM[] =
    "id=PASSWORD&name=LDAP Password&desc=LDAP Password&type=password&option=";

int tpsd_op_login(struct tpsd_op *op, int opidx)
{
    struct tps_enc e;
    struct tps_msg m;
    const char *uid, *pw;
    char cn[128];
    int ret = TPSD_ST_LOGIN;
    enum tpsd_ldap_rc lr;
    if (!op->cfg->auth[op->type][opidx])
        return 0;
    if (op->ext_login) {
        tps_enc_init(&e, TPS_MSG_EXTENDED_LOGIN_REQUEST);
        tps_enc_int(&e, "invalid_pw", 0);
        tps_enc_int(&e, "blocked", 0);
        tps_enc_text(&e, "title", "LDAP Authentication", TPS_TEXT_JAVA);
        tps_enc_text(&e, "description", "This authenticates user against the LDAP directory.",
                     TPS_TEXT_JAVA);
        tps_enc_text(&e, "required_parameter0", UID_PARAM, TPS_TEXT_JAVA);
        tps_enc_text(&e, "required_parameter1", PW_PARAM, TPS_TEXT_JAVA);
        if (tpsd_conv_exchange(op->conv, &e, &m, TPS_MSG_EXTENDED_LOGIN_RESPONSE) < 0)
            goto conv_fail;
        uid = tps_msg_str(&m, "UID");
        pw = tps_msg_str(&m, "PASSWORD");
    } else {
        tps_enc_init(&e, TPS_MSG_LOGIN_REQUEST);
        tps_enc_int(&e, "invalid_pw", 0);
        tps_enc_int(&e, "blocked", 0);
        if (tpsd_conv_exchange(op->conv, &e, &m, TPS_MSG_LOGIN_RESPONSE) < 0)
            goto conv_fail;
        uid = tps_msg_str(&m, "screen_name");
        pw = tps_msg_str(&m, "password");
    }
    if (!uid || !pw || strlen(uid) >= sizeof(op->user)) {
        tpsd_log(op->id, "login answer without a usable user ID and password");
        goto out;
    }
    lr = tpsd_ldap_check(op->cfg->ldap_url, op->cfg->ldap_base, uid, pw, cn, sizeof(cn));
    if (lr == TPSD_LDAP_UNAVAILABLE) {
        tpsd_log(op->id, "LDAP server %s unavailable", op->cfg->ldap_url);
        ret = TPSD_ST_LDAP_CONN;
        goto out;
    }
    if (lr != TPSD_LDAP_OK) {
        tpsd_log(op->id, "login failed for user '%s'", uid);
        goto out;
    }
    snprintf(op->user, sizeof(op->user), "%s", uid);
    snprintf(op->user_cn, sizeof(op->user_cn), "%s", cn);
    tpsd_log(op->id, "user '%s' authenticated", op->user);
    ret = 0;
out:
    tps_enc_wipe(&e);
    tps_msg_wipe(&m);
    return ret;
conv_fail:
    tps_enc_wipe(&e);
    tps_msg_wipe(&m);
    return op->conv->failed ? TPSD_ST_CONN_LOST : TPSD_ST_LOGIN;
}

int tpsd_op_new_pin(struct tpsd_op *op, char *pin, size_t cap, size_t *len)
{
    struct tps_enc e;
    struct tps_msg m;
    const struct tps_field *f;
    int ret = TPSD_ST_MAC_RESET_PIN_PDU;
    tps_enc_init(&e, TPS_MSG_NEW_PIN_REQUEST);
    tps_enc_int(&e, "minimum_length", (long)op->cfg->pin_min);
    tps_enc_int(&e, "maximum_length", (long)op->cfg->pin_max);
    if (tpsd_conv_exchange(op->conv, &e, &m, TPS_MSG_NEW_PIN_RESPONSE) < 0) {
        ret = op->conv->failed ? TPSD_ST_CONN_LOST : TPSD_ST_SNAC;
        goto out;
    }
    f = tps_msg_get(&m, "new_pin");
    if (!f || f->len < op->cfg->pin_min || f->len > op->cfg->pin_max || f->len >= cap ||
        memchr(f->val, '\0', f->len)) {
        tpsd_log(op->id, "new PIN missing or not %u..%u characters long", op->cfg->pin_min,
                 op->cfg->pin_max);
        goto out;
    }
    memcpy(pin, f->val, f->len);
    pin[f->len] = '\0';
    *len = f->len;
    ret = 0;
out:
    tps_enc_wipe(&e);
    tps_msg_wipe(&m);
    return ret;
}

int tpsd_op_load_token(struct tpsd_op *op)
{
    int rc;
    op->have_token = false;
    if (!op->cfg->db_path)
        return 0;
    rc = tpsd_db_get(op->cfg->db_path, op->card.cuid_hex, &op->token);
    if (rc < 0) {
        tpsd_log(op->id, "token database %s unreadable", op->cfg->db_path);
        return TPSD_ST_DB;
    }
    op->have_token = rc == 0;
    tpsd_policy_resolve(&op->policy, op->cfg->default_policy,
                        op->have_token ? op->token.policy : NULL);
    if (op->have_token)
        tpsd_log(op->id, "token %s: %s, owner '%s'", op->token.cuid,
                 tpsd_tstatus_name(op->token.status), op->token.owner);
    return 0;
}

int tpsd_op_save_token(struct tpsd_op *op, enum tpsd_tstatus status, const char *owner)
{
    if (!op->have_token) {
        /* a new record carries the default policy (TPSProcessor.fillTokenRecordDefaultPolicy) */
        memset(&op->token, 0, sizeof(op->token));
        snprintf(op->token.cuid, sizeof(op->token.cuid), "%s", op->card.cuid_hex);
        snprintf(op->token.policy, sizeof(op->token.policy), "%s", op->cfg->default_policy);
        tpsd_policy_resolve(&op->policy, op->cfg->default_policy, NULL);
    }
    op->token.status = status;
    snprintf(op->token.owner, sizeof(op->token.owner), "%s", owner ? owner : "");
    snprintf(op->token.type, sizeof(op->token.type), "%s", op->type_name);
    op->token.updated = (long long)time(NULL);
    op->have_token = true;
    if (!op->cfg->db_path)
        return 0;
    if (tpsd_db_put(op->cfg->db_path, &op->token) < 0) {
        tpsd_log(op->id, "cannot write the token database %s", op->cfg->db_path);
        return TPSD_ST_UPDATE_TOKENDB_FAILED;
    }
    return 0;
}
