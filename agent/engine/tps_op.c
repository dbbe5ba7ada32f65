/* tps_op: the operation engine (reference/tps-protocol.md §2-§6, §10). See tps_op.h. */
#include "tps_op.h"

#include "trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APDU_MAX  261
#define RESP_MAX  258
#define MAX_LOGIN 3

struct engine {
    const struct tps_op_req *req;
    const struct tps_op_ui *ui;
    const struct tps_card_io *card;
    struct tps_op_result *res;
    esc_err fail_err; /* why the handler gave up (ESC_OK: it did not) */
};

static void say(struct engine *e, const char *s)
{
    if (!e->res->sentence[0])
        snprintf(e->res->sentence, sizeof e->res->sentence, "%s", s);
}

static enum tps_conv_next fail(struct engine *e, esc_err why, const char *s)
{
    if (e->fail_err == ESC_OK)
        e->fail_err = why;
    say(e, s);
    return TPS_CONV_FAIL;
}

/* PIN characters that reach the card unchanged whether or not the server %-decodes
 * NEW_PIN_RESPONSE (the Java TPS does not, §2.2). */
static bool pin_chars_ok(const char *pin)
{
    for (const unsigned char *p = (const unsigned char *)pin; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '&' || *p == '=' || *p == '%' || *p == '+')
            return false;
    return true;
}

static enum tps_conv_next on_pdu(struct engine *e, const struct tps_msg *in, struct tps_enc *r)
{
    const struct tps_field *d = tps_msg_get(in, "pdu_data");
    long size;
    unsigned char resp[RESP_MAX];
    size_t rlen = 0;
    if (!d || d->len < 4 || d->len > APDU_MAX)
        return fail(e, ESC_ERR_PROTOCOL, "The token server sent an invalid card command.");
    if (tps_msg_long(in, "pdu_size", 0, APDU_MAX, &size) == 0 && (size_t)size != d->len)
        return fail(e, ESC_ERR_PROTOCOL, "The token server sent an inconsistent card command.");
    bool set_pin = d->val[0] == 0x84 && d->val[1] == 0x04;
    bool gp = (d->val[0] & 0xFC) == 0x84; /* GlobalPlatform, secure messaging */
    bool del = gp && d->val[1] == 0xE4, inst = gp && d->val[1] == 0xE6 && (d->val[2] & 0x08);
    if (set_pin)
        e->res->pin_write = TPS_PIN_SENT;
    if (del && e->res->applet == TPS_APPLET_KEPT)
        e->res->applet = TPS_APPLET_DELETING;
    else if (inst && e->res->applet == TPS_APPLET_GONE)
        e->res->applet = TPS_APPLET_INSTALLING;
    if (e->card->transmit(e->card->ctx, d->val, d->len, resp, &rlen, sizeof resp) < 0 || rlen < 2 ||
        rlen > sizeof resp)
        return fail(e, ESC_ERR_PCSC, "The card stopped answering during the operation.");
    e->res->apdus++;
    bool ok = resp[rlen - 2] == 0x90 && resp[rlen - 1] == 0x00;
    if (set_pin)
        e->res->pin_write = ok ? TPS_PIN_WRITTEN : TPS_PIN_UNTOUCHED;
    if (e->res->applet == TPS_APPLET_DELETING)
        e->res->applet = ok ? TPS_APPLET_GONE : TPS_APPLET_KEPT;
    else if (e->res->applet == TPS_APPLET_INSTALLING)
        e->res->applet = ok ? TPS_APPLET_KEPT : TPS_APPLET_GONE;
    tps_enc_pdu(r, TPS_MSG_TOKEN_PDU_RESPONSE, resp, rlen); /* ESC order: size, data (§2.2) */
    explicit_bzero(resp, rlen); /* what the card wrote (transmit writes no further than rlen) */
    return TPS_CONV_REPLY;
}

static enum tps_conv_next on_status(struct engine *e, const struct tps_msg *in, struct tps_enc *r)
{
    long pct;
    if (tps_msg_long(in, "current_state", 0, 100, &pct) < 0)
        return fail(e, ESC_ERR_PROTOCOL, "The token server sent an invalid progress report.");
    const char *task = tps_msg_str(in, "next_task_name");
    if (!task)
        task = tps_msg_str(in, "description"); /* ESC reads this key (§6) */
    e->res->last_pct = (int)pct;
    if (e->ui->progress)
        e->ui->progress(e->ui->ctx, (int)pct, task);
    tps_enc_init(r, TPS_MSG_STATUS_UPDATE_RESPONSE);
    tps_enc_int(r, "current_state", pct);
    return TPS_CONV_REPLY;
}

/* Ask one value, or take the preset one. -1: cancelled (sentence set). */
static int get_value(struct engine *e, const struct tps_ask *q, const char *preset, char *out,
                     size_t cap)
{
    e->res->asked = true;
    if (preset && !q->retry) {
        int n = snprintf(out, cap, "%s", preset);
        return (n < 0 || (size_t)n >= cap) ? -1 : 0;
    }
    if (preset) { /* a preset answer was rejected: asking again would loop */
        say(e, "The directory rejected the user ID or password.");
        return -1;
    }
    if (!e->ui->ask || e->ui->ask(e->ui->ctx, q, out, cap) < 0) {
        say(e, "The operation was cancelled: no answer was given.");
        return -1;
    }
    return 0;
}

static enum tps_conv_next on_login(struct engine *e, const struct tps_msg *in, struct tps_enc *r)
{
    char uid[TPS_SECRET_MAX], pw[TPS_SECRET_MAX];
    long invalid = 0;
    enum tps_conv_next next = TPS_CONV_FAIL;
    (void)tps_msg_long(in, "invalid_pw", 0, 1, &invalid);
    if (++e->res->logins > MAX_LOGIN)
        return fail(e, ESC_ERR_TPS_REFUSED, "The directory rejected the user ID or password.");
    struct tps_ask qu = {
        .kind = TPS_ASK_TEXT, .id = "UID", .label = "User ID", .retry = invalid != 0};
    struct tps_ask qp = {
        .kind = TPS_ASK_SECRET, .id = "PASSWORD", .label = "Password", .retry = invalid != 0};
    if (get_value(e, &qu, e->req->user, uid, sizeof uid) < 0 ||
        get_value(e, &qp, e->req->password, pw, sizeof pw) < 0) {
        e->fail_err = ESC_ERR_CANCELLED;
        goto out;
    }
    tps_enc_init(r, TPS_MSG_LOGIN_RESPONSE);
    tps_enc_text(r, "screen_name", uid, TPS_TEXT_ESC);
    tps_enc_text(r, "password", pw, TPS_TEXT_ESC);
    next = TPS_CONV_REPLY;
out:
    explicit_bzero(uid, sizeof uid);
    explicit_bzero(pw, sizeof pw);
    return next;
}

static enum tps_conv_next on_ext_login(struct engine *e, const struct tps_msg *in,
                                       struct tps_enc *r)
{
    static struct tps_msg param; /* ~10 KB: not on the stack; the agent is single-threaded */
    char val[TPS_SECRET_MAX];
    long invalid = 0;
    enum tps_conv_next next = TPS_CONV_FAIL;
    const char *title = tps_msg_str(in, "title");
    const char *desc = tps_msg_str(in, "description");
    (void)tps_msg_long(in, "invalid_pw", 0, 1, &invalid);
    if (++e->res->logins > MAX_LOGIN)
        return fail(e, ESC_ERR_TPS_REFUSED, "The directory rejected the user ID or password.");
    tps_enc_init(r, TPS_MSG_EXTENDED_LOGIN_RESPONSE);
    int nparams = 0;
    for (int i = 0; i < TPS_MSG_MAX_FIELDS; i++) {
        char key[32];
        snprintf(key, sizeof key, "required_parameter%d", i);
        const struct tps_field *f = tps_msg_get(in, key);
        if (!f)
            break;
        if (tps_kvlist_decode(&param, f->val, f->len) < 0)
            return fail(e, ESC_ERR_PROTOCOL, "The token server sent an invalid login request.");
        const char *id = tps_msg_str(&param, "id");
        const char *name = tps_msg_str(&param, "name");
        const char *type = tps_msg_str(&param, "type");
        if (!id || !*id || strpbrk(id, "&=%+ "))
            return fail(e, ESC_ERR_PROTOCOL, "The token server sent an invalid login request.");
        bool secret = (type && strcmp(type, "password") == 0) || strcmp(id, "PASSWORD") == 0;
        struct tps_ask q = {.kind = secret ? TPS_ASK_SECRET : TPS_ASK_TEXT,
                            .id = id,
                            .label = name && *name ? name : id,
                            .title = title,
                            .desc =
                                tps_msg_str(&param, "desc") ? tps_msg_str(&param, "desc") : desc,
                            .retry = invalid != 0};
        const char *preset = NULL;
        if (strcmp(id, "UID") == 0)
            preset = e->req->user;
        else if (secret)
            preset = e->req->password;
        if (get_value(e, &q, preset, val, sizeof val) < 0) {
            e->fail_err = ESC_ERR_CANCELLED;
            goto out;
        }
        tps_enc_text(r, id, val, TPS_TEXT_ESC);
        explicit_bzero(val, sizeof val);
        nparams++;
    }
    if (nparams == 0)
        return fail(e, ESC_ERR_PROTOCOL, "The token server asked for no login parameters.");
    next = TPS_CONV_REPLY;
out:
    explicit_bzero(val, sizeof val);
    tps_msg_wipe(&param);
    return next;
}

static enum tps_conv_next on_new_pin(struct engine *e, const struct tps_msg *in, struct tps_enc *r)
{
    char pin[TPS_SECRET_MAX];
    long mn = 4, mx = 10;
    enum tps_conv_next next = TPS_CONV_FAIL;
    if (tps_msg_long(in, "minimum_length", 0, TPS_SECRET_MAX - 1, &mn) < 0 ||
        tps_msg_long(in, "maximum_length", 1, TPS_SECRET_MAX - 1, &mx) < 0 || mn > mx)
        return fail(e, ESC_ERR_PROTOCOL, "The token server sent an invalid PIN request.");
    struct tps_ask q = {.kind = TPS_ASK_NEW_PIN,
                        .id = "new_pin",
                        .label = "New PIN",
                        .min_len = (size_t)mn,
                        .max_len = (size_t)mx};
    e->res->asked = true;
    if (e->req->new_pin) {
        snprintf(pin, sizeof pin, "%s", e->req->new_pin);
    } else if (!e->ui->ask || e->ui->ask(e->ui->ctx, &q, pin, sizeof pin) < 0) {
        fail(e, ESC_ERR_CANCELLED, "The operation was cancelled: no PIN was given.");
        goto out;
    }
    size_t n = strlen(pin);
    if (n < (size_t)mn || n > (size_t)mx) {
        char s[160];
        snprintf(s, sizeof s, "The new PIN must be %ld to %ld characters long.", mn, mx);
        fail(e, ESC_ERR_ARG, s);
        goto out;
    }
    if (!pin_chars_ok(pin)) {
        fail(e, ESC_ERR_ARG, "The new PIN may not contain spaces, control characters or & = % +.");
        goto out;
    }
    tps_enc_init(r, TPS_MSG_NEW_PIN_RESPONSE);
    tps_enc_raw(r, "new_pin", pin); /* the Java TPS takes it raw (§2.2) */
    next = TPS_CONV_REPLY;
out:
    explicit_bzero(pin, sizeof pin);
    return next;
}

static enum tps_conv_next on_end(struct engine *e, const struct tps_msg *in)
{
    long v;
    e->res->end_seen = true;
    e->res->end_result = tps_msg_long(in, "result", 0, 1000000, &v) == 0 ? (int)v : -1;
    e->res->end_message = tps_msg_long(in, "message", 0, 1000000, &v) == 0 ? (int)v : -1;
    return TPS_CONV_DONE;
}

static enum tps_conv_next handle(void *ctx, const struct tps_msg *in, struct tps_enc *reply)
{
    struct engine *e = ctx;
    switch (in->type) {
    case TPS_MSG_TOKEN_PDU_REQUEST:
        return on_pdu(e, in, reply);
    case TPS_MSG_STATUS_UPDATE_REQUEST:
        return on_status(e, in, reply);
    case TPS_MSG_LOGIN_REQUEST:
        return on_login(e, in, reply);
    case TPS_MSG_EXTENDED_LOGIN_REQUEST:
        return on_ext_login(e, in, reply);
    case TPS_MSG_NEW_PIN_REQUEST:
        return on_new_pin(e, in, reply);
    case TPS_MSG_END_OP:
        return on_end(e, in);
    case TPS_MSG_SECUREID_REQUEST:
    case TPS_MSG_ASQ_REQUEST:
        return fail(e, ESC_ERR_PROTOCOL,
                    "The token server asked for a SecurID code or a security question, which "
                    "this client does not support.");
    default:
        return fail(e, ESC_ERR_PROTOCOL, "The token server sent an unexpected message.");
    }
}

/* Dogtag writes END_OP with result 0 only after a processor returned normally, and then always
 * with message 0; every TPSException carries its status with result 1 (pki TPSSession.process;
 * the old C++ TPS, mod_tps.cpp, also sent result = status != 0, and RA_Enroll_Processor ended a
 * renewal with status 0). 36 and 44 (EndOpMsg.TPSStatus) are internal to TPSEnrollProcessor's
 * renewal/recovery policy; a TPS that does send them with result 0 is read as it says. */
const char *tps_end_sentence(int op, int result, int message)
{
    if (result == TPS_RESULT_GOOD) {
        if (message == TPS_STATUS_RENEWAL_IS_PROCESSED)
            return "The certificates were renewed.";
        if (message == TPS_STATUS_RECOVERY_IS_PROCESSED)
            return "The keys were recovered.";
        switch (op) {
        case TPS_OP_ENROLL:
            return "The card was enrolled.";
        case TPS_OP_FORMAT:
            return "The card was formatted.";
        case TPS_OP_RESET_PIN:
            return "The card was given a new PIN.";
        case TPS_OP_RENEW:
            return "The certificates were renewed.";
        default:
            return "The token server reported that the operation succeeded.";
        }
    }
    switch (message) {
    case TPS_STATUS_NO_ERROR: /* Dogtag's answer to an operation it does not do (2, 4) */
        return "The token server did not perform the operation and gave no reason.";
    case TPS_STATUS_RECOVERY_IS_PROCESSED:
        return "The token server reported a failure after recovering the keys.";
    case TPS_STATUS_RENEWAL_IS_PROCESSED:
        return "The token server reported a failure after renewing the certificates.";
    case TPS_STATUS_ERROR_DISABLED_TOKEN:
        /* an enroll of an active token that the policy allows neither to renew nor to
         * re-enroll ends here too (TPSEnrollProcessor) */
        return op == TPS_OP_RENEW ? "The token server does not allow this card to be renewed "
                                    "or enrolled again."
                                  : tps_status_sentence(message);
    default:
        return tps_status_sentence(message); /* every other code names an error */
    }
}

static int begin_op(const struct tps_op_req *req, struct tps_enc *e)
{
    struct tps_kv ext[5];
    size_t n = 0;
    /* ESC's keys and order (§3); tokenType only for enroll and format */
    if (req->token_type && *req->token_type &&
        (req->op == TPS_OP_ENROLL || req->op == TPS_OP_FORMAT))
        ext[n++] = (struct tps_kv){"tokenType", req->token_type};
    ext[n++] = (struct tps_kv){"clientVersion", TPS_CLIENT_VERSION};
    if (req->atr_hex && *req->atr_hex)
        ext[n++] = (struct tps_kv){"tokenATR", req->atr_hex};
    ext[n++] = (struct tps_kv){"statusUpdate", "true"};
    ext[n++] = (struct tps_kv){"extendedLoginRequest", "true"};
    tps_enc_init(e, TPS_MSG_BEGIN_OP);
    tps_enc_int(e, "operation", req->op);
    tps_enc_kvlist(e, "extensions", ext, n, TPS_TEXT_ESC);
    return tps_enc_frame(e, NULL) ? 0 : -1;
}

esc_err tps_op_run(const struct tps_op_req *req, const struct tps_op_ui *ui,
                   const struct tps_card_io *card, struct tps_op_result *res)
{
    struct engine e = {.req = req, .ui = ui, .card = card, .res = res};
    struct tps_enc first;
    char err[256];
    memset(res, 0, sizeof *res);
    res->last_pct = -1;

    if (trust_check_url(req->trust, req->url, err, sizeof err, NULL) != ESC_OK) {
        say(&e, err);
        return res->err = ESC_ERR_UNTRUSTED_HOST;
    }
    if (begin_op(req, &first) < 0) {
        say(&e, "The request to the token server could not be built.");
        return res->err = ESC_ERR_ARG;
    }
    long msg_timeout_ms = req->msg_timeout_ms > 0 ? req->msg_timeout_ms : 90000;
    struct tps_conv_opts o = {.url = req->url,
                              .ca_file = req->trust ? req->trust->ca_file : NULL,
                              .msg_timeout_ms = msg_timeout_ms,
                              .stop = req->stop,
                              .max_msgs = req->max_msgs};
    res->err = tps_conv_run(&o, &first, handle, &e, &res->stats, err, sizeof err);
    tps_enc_wipe(&first);

    if (res->err == ESC_OK) {
        /* result decides, as in ESC and tpsclient; the sentence follows it (§4) */
        if (res->end_result != TPS_RESULT_GOOD)
            res->err = res->end_message == TPS_STATUS_ERROR_LOGIN ? ESC_ERR_AUTH_FAILED
                                                                  : ESC_ERR_TPS_REFUSED;
        say(&e, tps_end_sentence(req->op, res->end_result, res->end_message));
    } else if (res->err == ESC_ERR_TPS_TIMEOUT) {
        /* the deadline that fired: the TPS's per-message one (tps_message_timeout) */
        char s[160];
        snprintf(s, sizeof s, "The token server did not answer within %ld second%s.",
                 (msg_timeout_ms + 999) / 1000, msg_timeout_ms > 1000 ? "s" : "");
        say(&e, s);
    } else {
        /* the handler's own reason when it gave up; a connection that ends without END_OP
         * is ESC's error 28 (§4) */
        if (e.fail_err != ESC_OK)
            res->err = e.fail_err;
        say(&e, err);
    }
    return res->err;
}
