/* agent_op: probe -> phone home -> trust -> TPS operation. See agent_op.h. */
#include "agent_op.h"

#include "decision_file.h"
#include "log.h"
#include "pcsc.h"
#include "trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct relay {
    pcsc_card *card;
    esc_err err;
};

static int relay_transmit(void *ctx, const unsigned char *apdu, size_t alen, unsigned char *resp,
                          size_t *rlen, size_t rcap)
{
    struct relay *r = ctx;
    esc_err e = pcsc_transmit(r->card, apdu, alen, resp, rcap, rlen);
    if (e != ESC_OK) {
        r->err = e;
        return -1;
    }
    return 0;
}

int agent_op_parse(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "enroll") == 0)
        return TPS_OP_ENROLL;
    if (strcmp(name, "format") == 0)
        return TPS_OP_FORMAT;
    if (strcmp(name, "reset-pin") == 0 || strcmp(name, "pinreset") == 0)
        return TPS_OP_RESET_PIN;
    if (strcmp(name, "renew") == 0)
        return TPS_OP_RENEW;
    return -1;
}

esc_err agent_ph_err(int ph_rc)
{
    switch (ph_rc) {
    case PH_OK:
        return ESC_OK;
    case PH_NO_URL:
        return ESC_ERR_CONF;
    case PH_UNTRUSTED:
        return ESC_ERR_UNTRUSTED_HOST;
    case PH_CONNECT:
        return ESC_ERR_NETWORK;
    case PH_TLS:
        return ESC_ERR_TLS;
    case PH_HTTP:
    case PH_PARSE:
        return ESC_ERR_SERVER;
    case PH_CACHE:
        return ESC_ERR_IO;
    default:
        return ESC_ERR_INTERNAL;
    }
}

esc_err agent_op_err(const struct tps_op_result *r)
{
    switch (r->rc) {
    case TPS_OP_OK:
        return ESC_OK;
    case TPS_OP_UNTRUSTED:
        return ESC_ERR_UNTRUSTED_HOST;
    case TPS_OP_SERVER:
        return r->end_message == TPS_STATUS_ERROR_LOGIN ? ESC_ERR_AUTH_FAILED : ESC_ERR_TPS_REFUSED;
    case TPS_OP_NET:
        switch (r->conv_rc) {
        case TPS_CONV_TLS:
            return ESC_ERR_TLS;
        case TPS_CONV_TIMEOUT: /* not ESC_ERR_TIMEOUT: pam_esc reads that as its own timeout= */
            return ESC_ERR_TPS_TIMEOUT;
        case TPS_CONV_HTTP:
            return ESC_ERR_SERVER;
        case TPS_CONV_INTERNAL:
            return ESC_ERR_INTERNAL;
        default:
            return ESC_ERR_NETWORK;
        }
    case TPS_OP_PROTOCOL:
        return ESC_ERR_PROTOCOL;
    case TPS_OP_CARD:
        return ESC_ERR_PCSC;
    case TPS_OP_CANCELLED:
        return ESC_ERR_CANCELLED;
    default:
        return ESC_ERR_ARG;
    }
}

static void set_sentence(struct agent_op_out *out, const char *s)
{
    snprintf(out->sentence, sizeof out->sentence, "%s", s);
}

/* Probe the card; ESC_OK when it can be talked to and its CUID is known. */
static esc_err probe(const struct esc_conf *c, const char *reader, struct agent_op_out *out)
{
    struct probe_opts po = {.timeout_ms = c->probe_timeout_ms > 2000 ? c->probe_timeout_ms : 2000,
                            .reader = reader && *reader ? reader : c->reader};
    probe_card(&po, &out->facts);
    switch (out->facts.state) {
    case PROBE_NO_PCSCD:
    case PROBE_NO_READER:
    case PROBE_NO_CARD:
    case PROBE_ERROR: {
        esc_err e = out->facts.err != ESC_OK ? out->facts.err : ESC_ERR_NO_CARD;
        snprintf(out->sentence, sizeof out->sentence, "%s.", esc_strerror(e));
        return e;
    }
    default:
        break;
    }
    if (!out->facts.have_cuid || !ph_cuid_ok(out->facts.cuid_hex)) {
        set_sentence(out, "The card's serial number (CUID) could not be read.");
        return ESC_ERR_CARD_GARBAGE;
    }
    return ESC_OK;
}

static void ph_opts_from(const struct esc_conf *c, struct ph_opts *o, char *dir, size_t dircap)
{
    memset(o, 0, sizeof *o);
    o->allowed_hosts = c->allowed_hosts;
    o->allow_http_hosts = c->allow_http_hosts;
    o->ca_file = c->ca_file[0] ? c->ca_file : NULL;
    o->timeout_ms = 30000;
    if (c->cache_dir[0])
        snprintf(dir, dircap, "%s", c->cache_dir);
    else if (ph_cache_default_dir(dir, dircap) < 0)
        dir[0] = '\0';
    o->cache_dir = dir[0] ? dir : NULL;
}

static esc_err phone_home(const struct esc_conf *c, const char *url, bool refresh, bool test,
                          struct agent_op_out *out)
{
    struct ph_opts o;
    char dir[CONF_VALUE_MAX + 32], err[400];
    const char *u = ph_pick_url(url, out->facts.phone_home_url, c->phone_home_url);
    int rc;
    ph_opts_from(c, &o, dir, sizeof dir);
    o.refresh = refresh;
    if (test) {
        if (!u)
            rc = PH_NO_URL;
        else
            rc = ph_fetch(u, out->facts.cuid_hex, &o, &out->profile, &out->ph_requests, err,
                          sizeof err);
    } else {
        rc = ph_get(u, out->facts.cuid_hex, &o, &out->profile, &out->ph_cached, &out->ph_requests,
                    err, sizeof err);
    }
    if (rc == PH_NO_URL)
        set_sentence(out, ph_strerror(rc));
    else if (rc != PH_OK)
        set_sentence(out, err[0] ? err : ph_strerror(rc));
    if (rc == PH_OK)
        log_info("phone home for %s: %s (%s)", out->facts.cuid_hex, out->profile.operation,
                 out->ph_cached ? "cached" : "fetched");
    return agent_ph_err(rc);
}

esc_err agent_phone_home(const struct esc_conf *c, const char *reader, const char *url,
                         bool refresh, bool test, struct agent_op_out *out)
{
    memset(out, 0, sizeof *out);
    out->err = probe(c, reader, out);
    if (out->err == ESC_OK)
        out->err = phone_home(c, url, refresh, test, out);
    return out->err;
}

static void atr_hex(const struct probe_facts *f, char *out, size_t cap)
{
    static const char hx[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < f->atr_len && o + 2 < cap; i++) {
        out[o++] = hx[f->atr[i] >> 4];
        out[o++] = hx[f->atr[i] & 15];
    }
    out[o] = '\0';
}

/* Read the card back after the TPS conversation and decide what the user is told. */
static void read_back(const struct esc_conf *c, int op, struct agent_op_out *out)
{
    struct probe_opts po = {.timeout_ms = c->probe_timeout_ms > 2000 ? c->probe_timeout_ms : 2000,
                            .reader = out->facts.reader};
    esc_err was = out->err;
    probe_card(&po, &out->after);
    out->err = agent_op_outcome(op, &out->facts, &out->after, &out->res, out->err, out->sentence,
                                sizeof out->sentence);
    log_info("%s: the card is now %s (%zu certificates, PIN tries %d)%s", tps_op_name(op),
             probe_state_name(out->after.state), out->after.ncerts, out->after.pin_tries_left,
             was == ESC_OK && out->err != ESC_OK ? ": the token server's success is not on the card"
                                                 : "");
}

esc_err agent_run_op(const struct esc_conf *c, const struct agent_op_args *a,
                     const struct tps_op_ui *ui, struct agent_op_out *out)
{
    pcsc_ctx *pc = NULL;
    struct relay relay = {0};
    char atr[2 * PCSC_ATR_MAX + 1], err[400];
    bool in_tx = false;

    memset(out, 0, sizeof *out);
    out->err = probe(c, a->reader, out);
    if (out->err != ESC_OK)
        return out->err;
    out->err = phone_home(c, a->ph_url, a->refresh, false, out);
    if (out->err != ESC_OK)
        return out->err;
    if (!out->profile.operation[0]) {
        set_sentence(out, "The phone-home profile names no token server (no Operation URL).");
        return out->err = ESC_ERR_SERVER;
    }
    /* Refuse a TPS the policy does not allow before the card is touched or anything asked. */
    if (trust_check_url(out->profile.operation, c->allowed_hosts, c->allow_http_hosts, err,
                        sizeof err) != TRUST_OK) {
        set_sentence(out, err);
        return out->err = ESC_ERR_UNTRUSTED_HOST;
    }

    out->err = pcsc_open(&pc, 0);
    if (out->err == ESC_OK)
        out->err = pcsc_connect(pc, out->facts.reader, &relay.card);
    if (out->err == ESC_OK && (out->err = pcsc_begin(relay.card)) == ESC_OK)
        in_tx = true;
    if (out->err != ESC_OK) {
        snprintf(out->sentence, sizeof out->sentence, "%s.", esc_strerror(out->err));
        goto done;
    }
    atr_hex(&out->facts, atr, sizeof atr);
    struct tps_op_req req = {
        .op = a->op == TPS_OP_RENEW ? TPS_OP_ENROLL : a->op, /* Dogtag renews in enroll */
        .url = out->profile.operation,
        .token_type = a->token_type && *a->token_type ? a->token_type
                      : out->profile.token_type[0]    ? out->profile.token_type
                                                      : NULL,
        .atr_hex = atr,
        .allowed_hosts = c->allowed_hosts,
        .allow_http_hosts = c->allow_http_hosts,
        .ca_file = c->ca_file[0] ? c->ca_file : NULL,
        .msg_timeout_ms = (long)(c->tps_message_timeout ? c->tps_message_timeout : 90) * 1000L,
        .user = a->user,
        .password = a->password,
        .new_pin = a->new_pin,
    };
    struct tps_card_io io = {.transmit = relay_transmit, .ctx = &relay};
    log_info("%s on %s (CUID %s) with %s (BEGIN_OP operation %d)", tps_op_name(a->op),
             out->facts.reader, out->facts.cuid_hex, out->profile.operation, req.op);
    tps_op_run(&req, ui, &io, &out->res);
    out->err = agent_op_err(&out->res);
    if (out->res.rc == TPS_OP_CARD && relay.err != ESC_OK) {
        out->err = relay.err;
        snprintf(out->sentence, sizeof out->sentence, "%s.", esc_strerror(relay.err));
    } else {
        set_sentence(out, out->res.sentence);
    }
    log_info("%s: %s (END_OP result %d message %d, %u APDUs, %lu round trips)", tps_op_name(a->op),
             esc_err_name(out->err), out->res.end_result, out->res.end_message, out->res.apdus,
             out->res.stats.msgs_in);
    out->have_after = true;
done:
    if (in_tx)
        pcsc_end(relay.card);
    /* Reset the card afterwards, as ESC does: no PIN stays logged in, caches are dropped. */
    pcsc_disconnect(relay.card, true);
    pcsc_close(pc);
    /* pam_esc may remember this card as ENROLLED (pam_esc/pe_cache.h): the next login probes */
    if (in_tx)
        decision_forget();
    if (out->have_after)
        read_back(c, a->op, out);
    return out->err;
}
