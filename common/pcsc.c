/* pcsc: PC/SC transport on pcsc-lite with deadlines and distinct errors. */
#include "pcsc.h"

#include "clock.h"
#include "log.h"
#include "pcsc_watchdog.h"
#include "pcscd_card.h"
#include "pcscd_wire.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <reader.h>
#include <winscard.h>

#define APDU_SEND_MAX 262
/* After an empty reply, how long to wait for pcscd to see the card gone (its presence poll
 * runs every few hundred ms); always also bounded by the context deadline. */
#define VANISH_WAIT_MS 1000
#define MAX_RETRIES    8 /* 61xx / 6Cxx rounds per transmit */

/* How long a fresh context may take to show that pcscd still answers, after a call of ours
 * stayed blocked past its bound (pcscd answers SCardEstablishContext in well under 10 ms). */
#define ALIVE_CHECK_MS 1000

struct pcsc_ctx {
    SCARDCONTEXT h;
    uint64_t deadline; /* CLOCK_MONOTONIC ms; 0 = none */
    pcsc_wd *wd;       /* enforces the deadlines inside libpcsclite; NULL without one */
    unsigned call_ms;  /* bound of each card call (pcsc_open_bounded), 0 = none */
    unsigned acquire_ms;
    atomic_bool aborted; /* pcsc_abort() was called */
    /* a context with a deadline: pcscd's protocol spoken here (pcscd_card.h) instead of
     * libpcsclite, and the readers pcscd sent with the context, for the first
     * pcsc_list_readers() */
    pcscd_card *wire;
    bool step_bounded; /* the wire step under way has a bound of its own (call_ms, acquire_ms) */
    bool have_first;
    size_t nfirst;
    struct pcsc_reader first[PCSC_MAX_READERS];
};

struct pcsc_card {
    pcsc_ctx *ctx;
    char reader[PCSC_READER_NAME_MAX];
    SCARDHANDLE h;
    DWORD proto;
    int in_tx;
};

static int expired(const pcsc_ctx *ctx)
{
    return ctx->deadline && esc_mono_ms() >= ctx->deadline;
}

static int remaining_ms(const pcsc_ctx *ctx, int dflt)
{
    uint64_t n;
    if (!ctx->deadline)
        return dflt;
    n = esc_mono_ms();
    if (n >= ctx->deadline)
        return 0;
    return ctx->deadline - n > (uint64_t)dflt ? dflt : (int)(ctx->deadline - n);
}

esc_err pcsc_err_from_rv(long rv)
{
    switch ((unsigned long)rv) {
    case SCARD_S_SUCCESS:
        return ESC_OK;
    case SCARD_E_NO_SERVICE:
    case SCARD_E_SERVICE_STOPPED:
        return ESC_ERR_NO_PCSCD;
    case SCARD_E_NO_READERS_AVAILABLE:
    case SCARD_E_UNKNOWN_READER:
    case SCARD_E_READER_UNAVAILABLE:
        return ESC_ERR_NO_READER;
    case SCARD_E_NO_SMARTCARD:
        return ESC_ERR_NO_CARD;
    case SCARD_W_REMOVED_CARD:
        return ESC_ERR_CARD_REMOVED;
    case SCARD_W_RESET_CARD:
        return ESC_ERR_CARD_RESET;
    case SCARD_W_UNRESPONSIVE_CARD:
    case SCARD_W_UNPOWERED_CARD:
    case SCARD_W_UNSUPPORTED_CARD:
        return ESC_ERR_CARD_MUTE;
    case SCARD_E_SHARING_VIOLATION:
        return ESC_ERR_CARD_IN_USE;
    case SCARD_E_TIMEOUT:
        return ESC_ERR_TIMEOUT;
    case SCARD_E_NO_MEMORY:
        return ESC_ERR_NOMEM;
    case SCARD_E_INSUFFICIENT_BUFFER:
        return ESC_ERR_CARD_LONG;
    default:
        return ESC_ERR_PCSC;
    }
}

/* Does pcscd still answer a new client? It does when what blocked us was the card, its reader
 * or another client's transaction; it does not when pcscd itself is stopped or wedged.
 * in_use: someone is connected to `reader` (NULL: to a reader holding a card). */
static bool pcscd_answers(const char *reader, bool *in_use)
{
    pcsc_ctx *c = NULL;
    struct pcsc_reader r[PCSC_MAX_READERS];
    size_t n = 0;
    esc_err e = pcsc_open(&c, ALIVE_CHECK_MS);
    if (e == ESC_OK)
        e = pcsc_list_readers(c, r, PCSC_MAX_READERS, &n);
    pcsc_close(c);
    if (in_use) {
        *in_use = false;
        for (size_t i = 0; e == ESC_OK && i < n; i++)
            if (reader && *reader ? strcmp(r[i].name, reader) == 0 : r[i].card_present)
                *in_use = *in_use || r[i].in_use;
    }
    return e == ESC_OK || e == ESC_ERR_NO_READER;
}

esc_err pcsc_stall_cause(const char *reader)
{
    bool in_use = false;
    if (!pcscd_answers(reader, &in_use))
        return ESC_ERR_PCSCD_HUNG;
    return in_use ? ESC_ERR_CARD_IN_USE : ESC_ERR_CARD_MUTE;
}

/* A failed call: cancelled, the context's deadline, a call's own bound (the watchdog ended
 * the socket under it) or pcsc-lite's reason. acquiring: the call was SCardConnect or
 * SCardBeginTransaction, which wait while another client holds the card. */
static esc_err ctx_err_in(pcsc_ctx *ctx, LONG r, bool acquiring)
{
    uint64_t at = 0;
    if (atomic_load(&ctx->aborted))
        return ESC_ERR_CANCELLED;
    if (ctx->wd && pcsc_wd_fired_at(ctx->wd, &at)) {
        if (at == 0 || at == ctx->deadline || !ctx->call_ms)
            return ESC_ERR_TIMEOUT;
        if (!pcscd_answers(NULL, NULL))
            return ESC_ERR_PCSCD_HUNG;
        return acquiring ? ESC_ERR_CARD_IN_USE : ESC_ERR_CARD_MUTE;
    }
    return pcsc_err_from_rv(r);
}

static esc_err ctx_err(pcsc_ctx *ctx, LONG r)
{
    return ctx_err_in(ctx, r, false);
}

/* Before a call: refuse once cancelled or past the deadline; bound the call itself (ms, 0:
 * only the context's deadline). After it: back to the context's deadline. */
static esc_err call_begin(pcsc_ctx *ctx, unsigned ms)
{
    if (atomic_load(&ctx->aborted))
        return ESC_ERR_CANCELLED;
    if (!ctx->deadline && !(ctx->wd && ms))
        return ESC_OK;
    uint64_t now = esc_mono_ms(); /* once: this runs twice per APDU */
    if (ctx->deadline && now >= ctx->deadline)
        return ESC_ERR_TIMEOUT;
    if (ctx->wd && ms) {
        uint64_t t = now + ms;
        if (!ctx->deadline || t < ctx->deadline)
            pcsc_wd_set_deadline(ctx->wd, t);
    }
    return ESC_OK;
}

static void call_end(pcsc_ctx *ctx, unsigned ms)
{
    if (ctx->wd && ms)
        pcsc_wd_set_deadline(ctx->wd, ctx->deadline);
}

esc_err pcsc_open(pcsc_ctx **out, unsigned timeout_ms)
{
    struct pcsc_bounds b = {.timeout_ms = timeout_ms};
    return pcsc_open_bounded(out, &b);
}

/* Before a step on the wire: the context's deadline, or the step's own bound when sooner. */
static esc_err wire_go(pcsc_ctx *ctx, unsigned ms)
{
    uint64_t now, dl = ctx->deadline;

    if (atomic_load(&ctx->aborted))
        return ESC_ERR_CANCELLED;
    now = esc_mono_ms();
    if (dl && now >= dl)
        return ESC_ERR_TIMEOUT;
    ctx->step_bounded = ms && (!dl || now + ms < dl);
    pcscd_card_deadline(ctx->wire, ctx->step_bounded ? now + ms : dl);
    return ESC_OK;
}

/* After it: a step that outlived its own bound is told apart as on a libpcsclite context (a
 * fresh context asks pcscd whether it still answers). acquiring: connect or begin, which wait
 * while another client holds the card. */
static esc_err wire_done(pcsc_ctx *ctx, esc_err e, bool acquiring)
{
    if (atomic_load(&ctx->aborted))
        return ESC_ERR_CANCELLED;
    if (e != ESC_ERR_TIMEOUT || !ctx->step_bounded)
        return e;
    if (!pcscd_answers(NULL, NULL))
        return ESC_ERR_PCSCD_HUNG;
    return acquiring ? ESC_ERR_CARD_IN_USE : ESC_ERR_CARD_MUTE;
}

/* A context in pcscd's own protocol (pcscd_card.h); ESC_ERR_NOT_SUPPORTED: pcscd speaks
 * another, use libpcsclite. */
static esc_err open_wire(pcsc_ctx **out, const struct pcsc_bounds *b)
{
    pcsc_ctx *ctx = calloc(1, sizeof *ctx);
    uint64_t first;
    esc_err rv;

    if (!ctx)
        return ESC_ERR_NOMEM;
    atomic_init(&ctx->aborted, false);
    ctx->deadline = esc_mono_ms() + b->timeout_ms;
    ctx->call_ms = b->call_ms;
    ctx->acquire_ms = b->acquire_ms ? b->acquire_ms : b->call_ms;
    first = ctx->deadline;
    if (ctx->call_ms && esc_mono_ms() + ctx->call_ms < first)
        first = esc_mono_ms() + ctx->call_ms; /* the context's own request is a call too */
    rv = pcscd_card_open(&ctx->wire, first, ctx->first, PCSC_MAX_READERS, &ctx->nfirst);
    if (rv != ESC_OK) {
        free(ctx);
        return rv;
    }
    ctx->have_first = true;
    *out = ctx;
    return ESC_OK;
}

esc_err pcsc_open_bounded(pcsc_ctx **out, const struct pcsc_bounds *b)
{
    unsigned timeout_ms = b ? b->timeout_ms : 0;
    const char *path = pcscd_socket_path();
    struct stat st;
    pcsc_ctx *ctx;
    esc_err rv;
    LONG r;

    if (!out)
        return ESC_ERR_ARG;
    *out = NULL;
    /* no pcscd socket at all: say so without starting anything */
    if (stat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
        return ESC_ERR_NO_PCSCD;
    /* with a deadline, pcscd's own protocol: no thread, every step bounded by poll(); a pcscd
     * that speaks another protocol is left to libpcsclite, within the same bounds */
    if (timeout_ms) {
        rv = open_wire(out, b);
        if (rv != ESC_ERR_NOT_SUPPORTED)
            return rv;
    }
    ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return ESC_ERR_NOMEM;
    ctx->call_ms = b ? b->call_ms : 0;
    ctx->acquire_ms = b && b->acquire_ms ? b->acquire_ms : ctx->call_ms;
    atomic_init(&ctx->aborted, false);
    if (timeout_ms || ctx->call_ms) {
        ctx->deadline = timeout_ms ? esc_mono_ms() + timeout_ms : 0;
        /* SCardEstablishContext gets the per-call bound too */
        uint64_t first = ctx->deadline;
        if (ctx->call_ms && (!first || esc_mono_ms() + ctx->call_ms < first))
            first = esc_mono_ms() + ctx->call_ms;
        rv = pcsc_wd_start(&ctx->wd, path, first);
        if (rv != ESC_OK)
            goto fail;
    }
    r = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx->h);
    if (r != SCARD_S_SUCCESS) {
        log_debug("SCardEstablishContext: %s", pcsc_stringify_error(r));
        /* pcscd took the connection and never answered */
        rv = ctx->wd && pcsc_wd_fired(ctx->wd) ? ESC_ERR_PCSCD_HUNG : pcsc_err_from_rv(r);
        goto fail;
    }
    pcsc_wd_learn(ctx->wd);
    call_end(ctx, ctx->call_ms);
    *out = ctx;
    return ESC_OK;
fail:
    pcsc_wd_stop(ctx->wd);
    free(ctx);
    return rv;
}

void pcsc_abort(pcsc_ctx *ctx)
{
    if (!ctx)
        return;
    atomic_store(&ctx->aborted, true);
    pcscd_card_abort(ctx->wire);
    pcsc_wd_fire_now(ctx->wd);
}

void pcsc_close(pcsc_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->wire) {
        pcscd_card_close(ctx->wire);
        free(ctx);
        return;
    }
    (void)call_begin(ctx, ctx->call_ms);
    SCardReleaseContext(ctx->h); /* still under the deadline: pcscd may hang here too */
    pcsc_wd_stop(ctx->wd);
    free(ctx);
}

static esc_err wire_list_readers(pcsc_ctx *ctx, struct pcsc_reader *out, size_t max, size_t *count)
{
    size_t n = 0;
    esc_err e = ESC_OK;

    if (atomic_load(&ctx->aborted))
        return ESC_ERR_CANCELLED;
    if (expired(ctx))
        return ESC_ERR_TIMEOUT;
    if (ctx->have_first) { /* what pcscd sent with the context: asked for just now */
        ctx->have_first = false;
        n = ctx->nfirst < max ? ctx->nfirst : max;
        if (n)
            memcpy(out, ctx->first, n * sizeof *out);
    } else if ((e = wire_go(ctx, ctx->call_ms)) == ESC_OK) {
        e = pcscd_card_readers(ctx->wire, out, max < PCSC_MAX_READERS ? max : PCSC_MAX_READERS, &n);
        e = wire_done(ctx, e, false);
    }
    if (e != ESC_OK)
        return e;
    if (n == 0)
        return ESC_ERR_NO_READER;
    *count = n;
    return ESC_OK;
}

esc_err pcsc_list_readers(pcsc_ctx *ctx, struct pcsc_reader *out, size_t max, size_t *count)
{
    SCARD_READERSTATE st[PCSC_MAX_READERS];
    char *buf = NULL;
    DWORD len = SCARD_AUTOALLOCATE;
    size_t n = 0;
    LONG r;

    if (!ctx || !count || (!out && max))
        return ESC_ERR_ARG;
    *count = 0;
    if (ctx->wire)
        return wire_list_readers(ctx, out, max, count);
    esc_err g = call_begin(ctx, ctx->call_ms);
    if (g != ESC_OK)
        return g;
    r = SCardListReaders(ctx->h, NULL, (LPSTR)&buf, &len);
    call_end(ctx, ctx->call_ms);
    if (r != SCARD_S_SUCCESS)
        return ctx_err(ctx, r);
    memset(st, 0, sizeof st);
    /* multi-string: names separated by NUL, ended by an empty name, len bytes in all */
    for (size_t off = 0; off < len && buf[off] && n < max && n < PCSC_MAX_READERS;) {
        size_t l = strnlen(buf + off, len - off);
        if (l < PCSC_READER_NAME_MAX && off + l < len) { /* else: cannot name it back; skip */
            memset(&out[n], 0, sizeof out[n]);
            memcpy(out[n].name, buf + off, l);
            st[n].szReader = out[n].name;
            st[n].dwCurrentState = SCARD_STATE_UNAWARE;
            n++;
        }
        off += l + 1;
    }
    SCardFreeMemory(ctx->h, buf);
    if (n == 0)
        return ESC_ERR_NO_READER;
    /* timeout 0: report the current state, never wait */
    if ((g = call_begin(ctx, ctx->call_ms)) != ESC_OK)
        return g;
    r = SCardGetStatusChange(ctx->h, 0, st, (DWORD)n);
    call_end(ctx, ctx->call_ms);
    if (r != SCARD_S_SUCCESS && r != (LONG)SCARD_E_TIMEOUT)
        return ctx_err(ctx, r);
    for (size_t i = 0; i < n; i++) {
        DWORD ev = st[i].dwEventState;
        out[i].card_present = (ev & SCARD_STATE_PRESENT) != 0;
        out[i].card_mute = (ev & SCARD_STATE_MUTE) != 0;
        out[i].exclusive = (ev & SCARD_STATE_EXCLUSIVE) != 0;
        out[i].in_use = (ev & SCARD_STATE_INUSE) != 0;
        out[i].event_count = (unsigned)((ev >> 16) & 0xFFFFu);
        out[i].atr_len = st[i].cbAtr <= PCSC_ATR_MAX ? st[i].cbAtr : 0;
        memcpy(out[i].atr, st[i].rgbAtr, out[i].atr_len);
    }
    *count = n;
    return ESC_OK;
}

/* The card's reader as pcscd sees it now (GET_READERS_STATE, the step already started);
 * ESC_ERR_NO_READER when it is gone. */
static esc_err wire_card_reader(pcsc_card *card, struct pcsc_reader *out)
{
    struct pcsc_reader r[PCSC_MAX_READERS];
    size_t n = 0;
    esc_err e = pcscd_card_readers(card->ctx->wire, r, PCSC_MAX_READERS, &n);

    for (size_t i = 0; e == ESC_OK && i < n; i++) {
        if (strcmp(r[i].name, card->reader) == 0) {
            *out = r[i];
            return ESC_OK;
        }
    }
    return e == ESC_OK ? ESC_ERR_NO_READER : e;
}

/* Is the reader empty now, or does it become empty within wait_ms (bounded by the
 * context deadline)? pcscd notices a pulled card at its next presence poll. */
static bool wire_card_gone(pcsc_card *card, int wait_ms)
{
    struct pcsc_reader r;
    uint64_t until = esc_mono_ms() + (uint64_t)remaining_ms(card->ctx, wait_ms);

    for (;;) {
        esc_err e = wire_go(card->ctx, card->ctx->call_ms);

        if (e == ESC_OK)
            e = wire_card_reader(card, &r);
        if (e == ESC_ERR_NO_READER || (e == ESC_OK && !r.card_present))
            return true; /* the reader is empty, or gone with its card */
        if (e != ESC_OK)
            return false;
        if (esc_mono_ms() + 20 > until)
            return false;
        /* pcscd looks at a reader every few hundred ms (vpcd: 400): ask again shortly */
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static bool card_gone(pcsc_card *card, int wait_ms)
{
    SCARD_READERSTATE rs;
    LONG r;

    if (card->ctx->wire)
        return wire_card_gone(card, wait_ms);
    memset(&rs, 0, sizeof rs);
    rs.szReader = card->reader;
    rs.dwCurrentState = SCARD_STATE_UNAWARE;
    if (call_begin(card->ctx, card->ctx->call_ms) != ESC_OK)
        return false;
    r = SCardGetStatusChange(card->ctx->h, 0, &rs, 1);
    call_end(card->ctx, card->ctx->call_ms);
    if (r != SCARD_S_SUCCESS)
        return r == (LONG)SCARD_E_UNKNOWN_READER;
    for (int round = 0; round < 8; round++) {
        int left;
        if (rs.dwEventState & (SCARD_STATE_EMPTY | SCARD_STATE_UNAVAILABLE))
            return true;
        left = remaining_ms(card->ctx, wait_ms);
        if (left <= 0)
            return false;
        rs.dwCurrentState = rs.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
        if (call_begin(card->ctx, card->ctx->call_ms ? card->ctx->call_ms + (unsigned)left : 0) !=
            ESC_OK)
            return false;
        r = SCardGetStatusChange(card->ctx->h, (DWORD)left, &rs, 1);
        call_end(card->ctx, card->ctx->call_ms);
        if (r == (LONG)SCARD_E_TIMEOUT)
            return false;
        if (r != SCARD_S_SUCCESS)
            return false;
    }
    return false;
}

esc_err pcsc_connect(pcsc_ctx *ctx, const char *reader, pcsc_card **out)
{
    pcsc_card *c;
    LONG r;

    if (!ctx || !reader || !out)
        return ESC_ERR_ARG;
    *out = NULL;
    esc_err g = call_begin(ctx, ctx->acquire_ms);
    if (g != ESC_OK)
        return g;
    c = calloc(1, sizeof *c);
    if (!c) {
        call_end(ctx, ctx->acquire_ms);
        return ESC_ERR_NOMEM;
    }
    c->ctx = ctx;
    snprintf(c->reader, sizeof c->reader, "%s", reader);
    if (ctx->wire) {
        esc_err e = wire_go(ctx, ctx->acquire_ms);
        if (e == ESC_OK)
            e = wire_done(ctx, pcscd_card_connect(ctx->wire, reader, false), true);
        if (e == ESC_ERR_PCSC && card_gone(c, 0))
            e = ESC_ERR_NO_CARD;
        if (e != ESC_OK) {
            free(c);
            return e == ESC_ERR_CARD_REMOVED ? ESC_ERR_NO_CARD : e;
        }
        *out = c;
        return ESC_OK;
    }
    r = SCardConnect(ctx->h, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                     &c->h, &c->proto);
    call_end(ctx, ctx->acquire_ms);
    if (r != SCARD_S_SUCCESS) {
        esc_err e = ctx_err_in(ctx, r, true);
        log_debug("SCardConnect(%s): %s", reader, pcsc_stringify_error(r));
        if (e == ESC_ERR_PCSC && card_gone(c, 0))
            e = ESC_ERR_NO_CARD; /* pulled while we connected */
        free(c);
        return e == ESC_ERR_CARD_REMOVED ? ESC_ERR_NO_CARD : e;
    }
    *out = c;
    return ESC_OK;
}

/* CHANNEL_ID's value: 4 bytes in the host's order (the CCID driver's), or a DWORD as wide as
 * pcsc-lite's on LP64. */
static esc_err channel_of(const uint8_t *attr, size_t len, uint32_t *channel)
{
    if (len == 4) {
        memcpy(channel, attr, 4);
    } else if (len == 8) {
        uint64_t v;
        memcpy(&v, attr, 8);
        *channel = (uint32_t)v;
    } else {
        return ESC_ERR_NOT_SUPPORTED;
    }
    return ESC_OK;
}

static esc_err wire_reader_channel(pcsc_ctx *ctx, const char *reader, uint32_t *channel)
{
    uint8_t attr[8];
    size_t len = 0;
    esc_err e = wire_go(ctx, ctx->call_ms);

    if (e == ESC_OK)
        e = wire_done(ctx, pcscd_card_connect(ctx->wire, reader, true), false);
    if (e != ESC_OK)
        return e;
    e = pcscd_card_attrib(ctx->wire, SCARD_ATTR_CHANNEL_ID, attr, sizeof attr, &len);
    if (pcscd_card_disconnect(ctx->wire, false) != ESC_OK && e == ESC_OK)
        e = ESC_ERR_PCSC;
    if (e == ESC_ERR_PCSC && pcscd_card_last_rv(ctx->wire) == (long)SCARD_E_UNSUPPORTED_FEATURE)
        return ESC_ERR_NOT_SUPPORTED;
    if (e == ESC_ERR_PROTOCOL) /* longer than a channel id */
        return ESC_ERR_NOT_SUPPORTED;
    return e == ESC_OK ? channel_of(attr, len, channel) : e;
}

esc_err pcsc_reader_channel(pcsc_ctx *ctx, const char *reader, uint32_t *channel)
{
    SCARDHANDLE h;
    DWORD proto = 0, len;
    BYTE attr[8];
    LONG r;

    if (!ctx || !reader || !channel)
        return ESC_ERR_ARG;
    if (expired(ctx))
        return ESC_ERR_TIMEOUT;
    if (ctx->wire)
        return wire_reader_channel(ctx, reader, channel);
    /* direct: no protocol, so no power-up and nothing sent to the card */
    r = SCardConnect(ctx->h, reader, SCARD_SHARE_DIRECT, 0, &h, &proto);
    if (r != SCARD_S_SUCCESS) {
        log_debug("SCardConnect(%s, direct): %s", reader, pcsc_stringify_error(r));
        return ctx_err(ctx, r);
    }
    len = sizeof attr;
    r = SCardGetAttrib(h, SCARD_ATTR_CHANNEL_ID, attr, &len);
    SCardDisconnect(h, SCARD_LEAVE_CARD);
    if (r != SCARD_S_SUCCESS) {
        log_debug("SCardGetAttrib(%s, CHANNEL_ID): %s", reader, pcsc_stringify_error(r));
        return r == SCARD_E_UNSUPPORTED_FEATURE ? ESC_ERR_NOT_SUPPORTED : ctx_err(ctx, r);
    }
    return channel_of(attr, len, channel);
}

void pcsc_disconnect(pcsc_card *card, bool reset)
{
    if (!card)
        return;
    if (card->in_tx)
        pcsc_end(card);
    if (card->ctx->wire) {
        if (wire_go(card->ctx, card->ctx->call_ms) == ESC_OK)
            (void)pcscd_card_disconnect(card->ctx->wire, reset);
        free(card);
        return;
    }
    if (call_begin(card->ctx, card->ctx->call_ms) == ESC_OK) {
        SCardDisconnect(card->h, reset ? SCARD_RESET_CARD : SCARD_LEAVE_CARD);
        call_end(card->ctx, card->ctx->call_ms);
    }
    free(card);
}

/* SCardStatus's answer as libpcsclite makes it: pcscd says whether the handle is still good,
 * the ATR comes from the readers' states. */
static esc_err wire_status(pcsc_card *card, uint8_t *atr, size_t cap, size_t *atr_len)
{
    struct pcsc_reader r;
    esc_err e;

    if ((e = wire_go(card->ctx, card->ctx->call_ms)) != ESC_OK)
        return e;
    if ((e = pcscd_card_status(card->ctx->wire)) == ESC_OK)
        e = wire_card_reader(card, &r);
    if ((e = wire_done(card->ctx, e, false)) != ESC_OK)
        return e;
    if (!r.card_present)
        return ESC_ERR_CARD_REMOVED;
    if (r.atr_len > cap)
        return ESC_ERR_CARD_LONG;
    if (atr)
        memcpy(atr, r.atr, r.atr_len);
    *atr_len = r.atr_len;
    return ESC_OK;
}

esc_err pcsc_status(pcsc_card *card, uint8_t *atr, size_t cap, size_t *atr_len)
{
    BYTE buf[MAX_ATR_SIZE];
    DWORD alen = sizeof buf, state = 0, proto = 0;
    LONG r;

    if (!card || !atr_len)
        return ESC_ERR_ARG;
    if (card->ctx->wire)
        return wire_status(card, atr, cap, atr_len);
    esc_err g = call_begin(card->ctx, card->ctx->call_ms);
    if (g != ESC_OK)
        return g;
    r = SCardStatus(card->h, NULL, NULL, &state, &proto, buf, &alen);
    call_end(card->ctx, card->ctx->call_ms);
    if (r != SCARD_S_SUCCESS)
        return ctx_err(card->ctx, r);
    if (alen > cap || alen > sizeof buf)
        return ESC_ERR_CARD_LONG;
    if (atr)
        memcpy(atr, buf, alen);
    *atr_len = alen;
    return ESC_OK;
}

esc_err pcsc_begin(pcsc_card *card)
{
    LONG r;
    if (!card)
        return ESC_ERR_ARG;
    if (card->ctx->wire) {
        esc_err e = wire_go(card->ctx, card->ctx->acquire_ms);
        if (e == ESC_OK)
            e = pcscd_card_begin(card->ctx->wire);
        /* with bounds of its own (an operation), the wait for the card is the begin's: told
         * apart as CARD_IN_USE at acquire_ms; else its answer comes with the next step's */
        if (e == ESC_OK && card->ctx->acquire_ms)
            e = pcscd_card_flush(card->ctx->wire);
        e = wire_done(card->ctx, e, true);
        card->in_tx = e == ESC_OK;
        return e;
    }
    esc_err g = call_begin(card->ctx, card->ctx->acquire_ms);
    if (g != ESC_OK)
        return g;
    /* pcsc-lite's client retries every 100 ms while another client holds the card: only the
     * bound ends the wait (ESC_ERR_CARD_IN_USE when pcscd itself still answers) */
    r = SCardBeginTransaction(card->h);
    call_end(card->ctx, card->ctx->acquire_ms);
    if (r != SCARD_S_SUCCESS)
        return ctx_err_in(card->ctx, r, true);
    card->in_tx = 1;
    return ESC_OK;
}

void pcsc_end(pcsc_card *card)
{
    if (!card || !card->in_tx)
        return;
    if (card->ctx->wire) {
        if (wire_go(card->ctx, card->ctx->call_ms) == ESC_OK)
            (void)pcscd_card_end(card->ctx->wire);
        card->in_tx = 0;
        return;
    }
    if (call_begin(card->ctx, card->ctx->call_ms) == ESC_OK) {
        SCardEndTransaction(card->h, SCARD_LEAVE_CARD);
        call_end(card->ctx, card->ctx->call_ms);
    }
    card->in_tx = 0;
}

/* After a failed exchange: was the card pulled, or did the exchange itself fail? */
static esc_err classify_failure(pcsc_card *card, LONG r)
{
    esc_err e = ctx_err(card->ctx, r);

    if (e == ESC_ERR_NO_CARD)
        return ESC_ERR_CARD_REMOVED;
    if (e == ESC_ERR_PCSC && card_gone(card, VANISH_WAIT_MS))
        return ESC_ERR_CARD_REMOVED;
    return e;
}

static esc_err wire_xmit(pcsc_card *card, const uint8_t *cmd, size_t len, uint8_t *resp,
                         DWORD *rlen)
{
    size_t got = 0;
    esc_err e;

    if ((e = wire_go(card->ctx, card->ctx->call_ms)) != ESC_OK)
        return e;
    e = pcscd_card_transmit(card->ctx->wire, cmd, len, resp, *rlen, &got);
    e = wire_done(card->ctx, e, false);
    *rlen = (DWORD)got;
    if (e == ESC_ERR_NO_CARD)
        return ESC_ERR_CARD_REMOVED;
    if (e == ESC_ERR_PCSC && card_gone(card, VANISH_WAIT_MS))
        return ESC_ERR_CARD_REMOVED;
    if (e != ESC_OK)
        return e;
    if (got == 0)
        return card_gone(card, VANISH_WAIT_MS) ? ESC_ERR_CARD_REMOVED : ESC_ERR_CARD_SHORT;
    return got < 2 ? ESC_ERR_CARD_SHORT : ESC_OK;
}

static esc_err xmit(pcsc_card *card, const uint8_t *cmd, size_t len, uint8_t *resp, DWORD *rlen)
{
    const SCARD_IO_REQUEST *pci = card->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    LONG r;

    if (card->ctx->wire)
        return wire_xmit(card, cmd, len, resp, rlen);
    esc_err g = call_begin(card->ctx, card->ctx->call_ms);
    if (g != ESC_OK)
        return g;
    r = SCardTransmit(card->h, pci, cmd, (DWORD)len, NULL, resp, rlen);
    call_end(card->ctx, card->ctx->call_ms);
    if (r != SCARD_S_SUCCESS) {
        log_debug("SCardTransmit: %s", pcsc_stringify_error(r));
        return classify_failure(card, r);
    }
    if (*rlen == 0) {
        /* vpcd answers an empty reply when the card vanishes mid-command; a reader driver
         * would report an error. Either way: was the card pulled? */
        return card_gone(card, VANISH_WAIT_MS) ? ESC_ERR_CARD_REMOVED : ESC_ERR_CARD_SHORT;
    }
    if (*rlen < 2)
        return ESC_ERR_CARD_SHORT;
    return ESC_OK;
}

esc_err pcsc_transmit(pcsc_card *card, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                      size_t cap, size_t *resp_len)
{
    /* one spare byte over the largest legal reply, so an oversized one is seen as such */
    uint8_t buf[PCSC_RESP_MAX + 2], again[APDU_SEND_MAX];
    size_t total = 0, slen = cmd_len;
    const uint8_t *send = cmd;
    esc_err rv;

    if (!card || !cmd || cmd_len < 4 || cmd_len > sizeof again || !resp || !resp_len || cap < 2)
        return ESC_ERR_ARG;
    *resp_len = 0;
    for (int round = 0; round < MAX_RETRIES; round++) {
        DWORD rlen = sizeof buf;
        uint8_t sw1, sw2;

        rv = xmit(card, send, slen, buf, &rlen);
        if (rv != ESC_OK)
            return rv;
        if (rlen > PCSC_RESP_MAX)
            return ESC_ERR_CARD_LONG;
        sw1 = buf[rlen - 2];
        sw2 = buf[rlen - 1];
        if (sw1 == 0x6C && round == 0 && rlen == 2) {
            /* wrong Le: resend with Le = SW2 (case 2: P3 is Le) */
            memcpy(again, cmd, cmd_len);
            if (cmd_len == 5 || (cmd_len > 5 && cmd_len == 6u + cmd[4]))
                again[cmd_len - 1] = sw2; /* replace Le */
            else if (cmd_len < sizeof again)
                again[slen++] = sw2; /* case 1 or 3: add Le */
            else
                return ESC_ERR_CARD_GARBAGE;
            send = again;
            continue;
        }
        if (total + rlen - 2 > cap - 2)
            return ESC_ERR_CARD_LONG;
        memcpy(resp + total, buf, rlen - 2);
        total += rlen - 2;
        if (sw1 == 0x61) {
            /* more data: GET RESPONSE */
            static const uint8_t gr[4] = {0x00, 0xC0, 0x00, 0x00};
            memcpy(again, gr, 4);
            again[4] = sw2;
            send = again;
            slen = 5;
            continue;
        }
        resp[total++] = sw1;
        resp[total++] = sw2;
        *resp_len = total;
        return ESC_OK;
    }
    return ESC_ERR_CARD_GARBAGE; /* endless 61xx/6Cxx chain */
}

esc_err pcsc_batch_leave(pcsc_card *card, size_t n, const uint8_t *const cmd[],
                         const size_t cmd_len[], uint8_t resp[][PCSC_RESP_MAX], size_t rlen[])
{
    esc_err e = ESC_OK;

    _Static_assert(PCSC_BATCH_MAX <= PCSCD_BATCH_MAX, "a batch fits pcscd_card_batch");
    if (!card || n > PCSC_BATCH_MAX) {
        pcsc_disconnect(card, false);
        return ESC_ERR_ARG;
    }
    if (card->ctx->wire) {
        if ((e = wire_go(card->ctx, card->ctx->call_ms)) == ESC_OK)
            e = wire_done(card->ctx, pcscd_card_batch(card->ctx->wire, n, cmd, cmd_len, resp, rlen),
                          false);
        free(card);
        return e == ESC_ERR_NO_CARD ? ESC_ERR_CARD_REMOVED : e;
    }
    e = pcsc_begin(card);
    for (size_t i = 0; i < n && e == ESC_OK; i++) {
        DWORD got = PCSC_RESP_MAX;
        e = xmit(card, cmd[i], cmd_len[i], resp[i], &got);
        rlen[i] = got;
    }
    pcsc_disconnect(card, false); /* ends the transaction first */
    return e;
}
