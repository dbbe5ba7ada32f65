/* agent_op: probe -> phone home -> trust -> TPS operation. See agent_op.h. */
#include "agent_op.h"

#include "card_lock.h"
#include "clock.h"
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

static void set_sentence(struct agent_op_out *out, const char *s)
{
    snprintf(out->sentence, sizeof out->sentence, "%s", s);
}

/* The sentence for a card call that stayed blocked past its bound of ms. */
static esc_err stall_sentence(struct agent_op_out *out, esc_err e, unsigned ms)
{
    unsigned s = (ms + 999) / 1000;
    switch (e) {
    case ESC_ERR_PCSCD_HUNG:
        snprintf(out->sentence, sizeof out->sentence,
                 "pcscd (the smart card service) did not answer within %u second%s.", s,
                 s == 1 ? "" : "s");
        break;
    case ESC_ERR_CARD_IN_USE:
        set_sentence(out, "The card is busy with another operation (another program holds it); "
                          "try again when it has finished.");
        break;
    case ESC_ERR_CARD_MUTE:
        snprintf(out->sentence, sizeof out->sentence, "The card did not answer within %u second%s.",
                 s, s == 1 ? "" : "s");
        break;
    default:
        snprintf(out->sentence, sizeof out->sentence, "%s.", esc_strerror(e));
        break;
    }
    return e;
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
        if (e == ESC_ERR_TIMEOUT || e == ESC_ERR_PCSCD_HUNG) {
            /* blocked: by pcscd, by the card, or by another client's card transaction (pcscd
             * holds SCardConnect back while one runs) */
            e = pcsc_stall_cause(out->facts.reader[0] ? out->facts.reader : po.reader);
            return stall_sentence(out, e, po.timeout_ms);
        }
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

static void ph_opts_from(const struct esc_conf *c, const struct trust_policy *trust,
                         struct ph_opts *o, char *dir, size_t dircap)
{
    memset(o, 0, sizeof *o);
    o->trust = trust;
    o->timeout_ms = 30000;
    o->cache_dir = ph_cache_dir(c->cache_dir, dir, dircap) == 0 ? dir : NULL;
}

static esc_err phone_home(const struct esc_conf *c, const struct trust_policy *trust,
                          const char *url, bool refresh, bool test, struct op_stop *st,
                          struct agent_op_out *out)
{
    struct ph_opts o;
    char dir[CONF_VALUE_MAX + 32], err[400];
    const char *u = ph_pick_url(url, out->facts.phone_home_url, c->phone_home_url);
    esc_err e;
    ph_opts_from(c, trust, &o, dir, sizeof dir);
    o.timeout_ms = op_stop_left_ms(st, (unsigned)o.timeout_ms);
    o.refresh = refresh;
    if (test)
        e = ph_fetch(u, out->facts.cuid_hex, &o, &out->profile, &out->ph_requests, err, sizeof err);
    else
        e = ph_get(u, out->facts.cuid_hex, &o, &out->profile, &out->ph_cached, &out->ph_requests,
                   err, sizeof err);
    if (e != ESC_OK)
        set_sentence(out, err);
    else
        log_info("phone home for %s: %s (%s)", out->facts.cuid_hex, out->profile.operation,
                 out->ph_cached ? "cached" : "fetched");
    return e;
}

esc_err agent_phone_home(const struct esc_conf *c, const char *reader, const char *url,
                         bool refresh, bool test, struct agent_op_out *out)
{
    struct trust_policy trust = trust_policy_from_conf(c);
    memset(out, 0, sizeof *out);
    out->err = probe(c, reader, out);
    if (out->err == ESC_OK)
        out->err = phone_home(c, &trust, url, refresh, test, NULL, out);
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

/* Read the card back after the TPS conversation and decide what the user is told. What the
 * outcome compares is its state, certificates (count, notAfter) and PIN tries: the probe that
 * decides (decide_only, check_expiry) reads those and leaves the applet's versions, issuer
 * info and CUID, read before the operation (about 10 APDUs instead of 16 for an enrolled card). */
static void read_back(const struct esc_conf *c, int op, struct agent_op_out *out)
{
    struct probe_opts po = {.timeout_ms = c->probe_timeout_ms > 2000 ? c->probe_timeout_ms : 2000,
                            .reader = out->facts.reader,
                            .decide_only = true,
                            .check_expiry = true};
    esc_err was = out->err;
    probe_card(&po, &out->after);
    out->err = agent_op_outcome(op, &out->facts, &out->after, &out->res, out->err, out->sentence,
                                sizeof out->sentence);
    log_info("%s: the card is now %s (%zu certificates, PIN tries %d)%s", esc_op_command(op),
             probe_state_name(out->after.state), out->after.ncerts, out->after.pin_tries_left,
             was == ESC_OK && out->err != ESC_OK ? ": the token server's success is not on the card"
                                                 : "");
}

/* Why the operation was stopped from outside, as its result; ESC_OK when it was not. */
static esc_err stopped(struct op_stop *st, uint64_t t0, struct agent_op_out *out)
{
    switch (op_stop_check(st)) {
    case ESC_ERR_TIMEOUT: {
        unsigned s = (unsigned)((st->deadline_ms - t0 + 500) / 1000);
        snprintf(out->sentence, sizeof out->sentence,
                 "The operation did not finish within %u second%s and was stopped.", s,
                 s == 1 ? "" : "s");
        return out->err = ESC_ERR_TIMEOUT;
    }
    case ESC_ERR_CANCELLED:
        set_sentence(out, "The operation was cancelled and stopped before it finished.");
        return out->err = ESC_ERR_CANCELLED;
    default:
        return ESC_OK;
    }
}

static esc_err run_op(const struct esc_conf *c, const struct trust_policy *trust,
                      const struct agent_op_args *a, const char *reader, const struct tps_op_ui *ui,
                      struct op_stop *st, struct agent_op_out *out);

/* The reader the probe will pick: the named one, else the first holding a card (*reader NULL
 * when none holds one: the probe then says so). A PC/SC failure here is the operation's: going
 * on without knowing the reader would mean going on without the card's lock. */
static esc_err op_reader(const struct esc_conf *c, const struct agent_op_args *a, char *buf,
                         size_t cap, const char **reader)
{
    struct pcsc_reader r[PCSC_MAX_READERS];
    pcsc_ctx *pc = NULL;
    size_t n = 0;
    const char *want = a->reader && *a->reader ? a->reader : c->reader[0] ? c->reader : NULL;
    esc_err e;

    *reader = want;
    if (want)
        return ESC_OK;
    buf[0] = '\0';
    e = pcsc_open(&pc, c->probe_timeout_ms > 2000 ? c->probe_timeout_ms : 2000);
    if (e == ESC_OK)
        e = pcsc_list_readers(pc, r, PCSC_MAX_READERS, &n);
    for (size_t i = 0; e == ESC_OK && i < n && !buf[0]; i++)
        if (r[i].card_present && strnlen(r[i].name, sizeof r[i].name) < cap)
            memcpy(buf, r[i].name, strnlen(r[i].name, sizeof r[i].name) + 1);
    pcsc_close(pc);
    *reader = buf[0] ? buf : NULL;
    /* no pcscd or no reader: the probe finds the same and says it in its own words */
    return e == ESC_ERR_NO_PCSCD || e == ESC_ERR_NO_READER ? ESC_OK : e;
}

esc_err agent_run_op(const struct esc_conf *c, const struct agent_op_args *a,
                     const struct tps_op_ui *ui, struct agent_op_out *out)
{
    struct op_stop own;
    struct op_stop *st = a->stop;
    uint64_t dl =
        esc_mono_ms() + 1000u * (uint64_t)(c->operation_timeout ? c->operation_timeout : 600);
    if (!st) {
        op_stop_init(&own, dl);
        st = &own;
    } else if (!st->deadline_ms || dl < st->deadline_ms) {
        st->deadline_ms = dl;
    }
    char rbuf[PCSC_READER_NAME_MAX];
    const char *reader = NULL;
    int lock = -1;
    esc_err e = op_reader(c, a, rbuf, sizeof rbuf, &reader);
    if (e != ESC_OK) {
        memset(out, 0, sizeof *out);
        out->err = e;
        snprintf(out->sentence, sizeof out->sentence, "%s.", esc_strerror(e));
    } else if (card_lock_take(reader, &lock) != ESC_OK) {
        memset(out, 0, sizeof *out);
        snprintf(out->facts.reader, sizeof out->facts.reader, "%.*s",
                 (int)sizeof out->facts.reader - 1, reader ? reader : "");
        out->err = stall_sentence(out, ESC_ERR_CARD_IN_USE, 0);
    } else {
        struct trust_policy trust = trust_policy_from_conf(c); /* once: handed down */
        run_op(c, &trust, a, reader, ui, st, out);
    }
    card_lock_release(lock);
    if (st == &own)
        op_stop_destroy(&own);
    return out->err;
}

static esc_err run_op(const struct esc_conf *c, const struct trust_policy *trust,
                      const struct agent_op_args *a, const char *reader, const struct tps_op_ui *ui,
                      struct op_stop *st, struct agent_op_out *out)
{
    pcsc_ctx *pc = NULL;
    struct relay relay = {0};
    char atr[2 * PCSC_ATR_MAX + 1], err[400];
    bool in_tx = false;
    uint64_t t0 = esc_mono_ms();
    unsigned card_ms = 1000u * (c->card_timeout ? c->card_timeout : 60);

    memset(out, 0, sizeof *out);
    out->err = probe(c, reader, out);
    if (out->err != ESC_OK || stopped(st, t0, out) != ESC_OK)
        return out->err;
    out->err = phone_home(c, trust, a->ph_url, a->refresh, false, st, out);
    /* a phone home cut by the operation's deadline keeps its own sentence: it names the
     * server that did not answer */
    if (out->err != ESC_OK || stopped(st, t0, out) != ESC_OK)
        return out->err;
    if (!out->profile.operation[0]) {
        set_sentence(out, "The phone-home profile names no token server (no Operation URL).");
        return out->err = ESC_ERR_SERVER;
    }
    /* Refuse a TPS the policy does not allow before the card is touched or anything asked. */
    if (trust_check_url(trust, out->profile.operation, err, sizeof err, NULL) != ESC_OK) {
        set_sentence(out, err);
        return out->err = ESC_ERR_UNTRUSTED_HOST;
    }

    /* bounded as a whole (what is left of the operation) and per command (card_timeout);
     * a second operation on the card is told it is busy within AGENT_OP_ACQUIRE_MS */
    struct pcsc_bounds pb = {.timeout_ms = op_stop_left_ms(st, UINT32_MAX),
                             .call_ms = card_ms,
                             .acquire_ms =
                                 card_ms < AGENT_OP_ACQUIRE_MS ? card_ms : AGENT_OP_ACQUIRE_MS};
    out->err = pcsc_open_bounded(&pc, &pb);
    if (out->err == ESC_OK) {
        op_stop_attach(st, pc);
        out->err = pcsc_connect(pc, out->facts.reader, &relay.card);
    }
    if (out->err == ESC_OK && (out->err = pcsc_begin(relay.card)) == ESC_OK)
        in_tx = true;
    if (out->err != ESC_OK) {
        if (stopped(st, t0, out) == ESC_OK)
            stall_sentence(out, out->err,
                           out->err == ESC_ERR_CARD_IN_USE ? pb.acquire_ms : pb.call_ms);
        goto done;
    }
    atr_hex(&out->facts, atr, sizeof atr);
    struct tps_op_req req = {
        .op = esc_op_get(a->op) ? esc_op_get(a->op)->begin_op : a->op, /* renew: 1 (ops.h) */
        .url = out->profile.operation,
        .token_type = a->token_type && *a->token_type ? a->token_type
                      : out->profile.token_type[0]    ? out->profile.token_type
                                                      : NULL,
        .atr_hex = atr,
        .trust = trust,
        .msg_timeout_ms = (long)(c->tps_message_timeout ? c->tps_message_timeout : 90) * 1000L,
        .user = a->user,
        .password = a->password,
        .new_pin = a->new_pin,
        .stop = st,
        .max_msgs = AGENT_OP_MAX_MESSAGES,
    };
    struct tps_card_io io = {.transmit = relay_transmit, .ctx = &relay};
    log_info("%s on %s (CUID %s) with %s (BEGIN_OP operation %d)", esc_op_command(a->op),
             out->facts.reader, out->facts.cuid_hex, out->profile.operation, req.op);
    tps_op_run(&req, ui, &io, &out->res);
    if (a->op == TPS_OP_RENEW && out->res.end_seen) /* the user asked to renew: say it so */
        snprintf(out->res.sentence, sizeof out->res.sentence, "%s",
                 tps_end_sentence(TPS_OP_RENEW, out->res.end_result, out->res.end_message));
    out->err = out->res.err;
    if (!out->res.end_seen && stopped(st, t0, out) != ESC_OK) {
        /* cancelled or out of time: whatever call it ended */
    } else if (out->res.err == ESC_ERR_PCSC && relay.err != ESC_OK) {
        out->err = relay.err;
        stall_sentence(out, relay.err, pb.call_ms);
    } else {
        set_sentence(out, out->res.sentence);
    }
    log_info("%s: %s (END_OP result %d message %d, %u APDUs, %lu round trips)",
             esc_op_command(a->op), esc_err_name(out->err), out->res.end_result,
             out->res.end_message, out->res.apdus, out->res.stats.msgs_in);
    out->have_after = true;
done:
    if (in_tx)
        pcsc_end(relay.card);
    /* Reset the card afterwards, as ESC does: no PIN stays logged in, caches are dropped. */
    pcsc_disconnect(relay.card, true);
    op_stop_attach(st, NULL);
    pcsc_close(pc);
    /* pam_esc may remember this card as ENROLLED (pam_esc/pe_cache.h): the next login probes */
    if (in_tx)
        decision_forget();
    if (out->have_after)
        read_back(c, a->op, out);
    return out->err;
}
