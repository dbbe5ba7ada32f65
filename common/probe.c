/* probe: the card-state probe (design.md "The card probe"). See probe.h for the sequence.
 * Nothing here sends VERIFY: probing never spends a PIN try. */
#include "probe.h"

#include "apdu.h"
#include "coolkey_certs.h"
#include "clock.h"
#include "der.h"
#include "log.h"
#include "pcscd_wire.h"
#include "z0_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LISTED 32 /* LIST OBJECTS entries we look at */

/* A refusal by status word is a fact about the card; anything else (short, long, garbage,
 * pulled, deadline) means we cannot trust what we read. */
static bool card_broken(esc_err e)
{
    return e != ESC_OK && e != ESC_ERR_CARD_SW && e != ESC_ERR_NOT_FOUND &&
           e != ESC_ERR_PIN_LOCKED && e != ESC_ERR_PIN_INCORRECT;
}

static void init_facts(struct probe_facts *f)
{
    memset(f, 0, sizeof *f);
    f->state = PROBE_ERROR;
    f->life_cycle = -1;
    f->pin_tries_left = -1;
}

struct certs_seen {
    size_t n;       /* parsed certificates */
    size_t expired; /* of those, past notAfter */
};

static void note_cert(struct probe_facts *f, struct certs_seen *cs, const uint8_t *der, size_t len,
                      time_t now)
{
    struct der_cert_info ci;
    if (der_cert_parse(der, len, &ci) != ESC_OK) {
        log_debug("probe: a certificate on the card does not parse");
        if (f->err == ESC_OK)
            f->err = ESC_ERR_BAD_CERT;
        return;
    }
    uint64_t h = f->certs_id ? f->certs_id : 14695981039346656037ull; /* FNV-1a 64 */
    for (size_t i = 0; i < len; i++)
        h = (h ^ der[i]) * 1099511628211ull;
    f->certs_id = h ? h : 1;
    if (cs->n == 0) {
        snprintf(f->subject, sizeof f->subject, "%s", ci.subject);
        snprintf(f->issuer, sizeof f->issuer, "%s", ci.issuer);
    }
    cs->n++;
    if (ci.not_after < (int64_t)now)
        cs->expired++;
    if (ci.not_after > f->not_after)
        f->not_after = ci.not_after;
}

static void decide(struct probe_facts *f, const struct certs_seen *cs)
{
    if (f->life_cycle != CK_LC_PERSONALIZED)
        f->state = PROBE_UNINITIALIZED;
    else if (f->pin_tries_left == 0)
        f->state = PROBE_PIN_LOCKED;
    else if (f->ncerts == 0)
        f->state = PROBE_UNINITIALIZED;
    else if (cs->n > 0 && cs->expired == cs->n && cs->n == f->ncerts)
        f->state = PROBE_EXPIRED;
    else
        f->state = PROBE_ENROLLED;
}

/* The decision's certificate check without reading the certificates: the combined z0
 * object's 20-byte header (one APDU) with data behind it, else a certificate object of the
 * separate layout in the object list. */
static esc_err certs_present(pcsc_card *card, struct probe_facts *f)
{
    uint8_t hdr[Z0_HEADER_LEN];
    struct ck_object_info objs[MAX_LISTED];
    struct z0_header h;
    size_t n = 0;
    esc_err rv = ck_read_object(card, CK_OBJ_Z0, 0, hdr, sizeof hdr);

    if (rv == ESC_OK) {
        if (z0_parse_header(hdr, sizeof hdr, &h) == ESC_OK && h.comp_size > 0)
            f->ncerts = 1; /* at least one: the decision needs no more */
        else
            f->err = ESC_ERR_BAD_OBJECT; /* z0 unusable: the card needs enrolling again */
        return ESC_OK;
    }
    if (rv != ESC_ERR_CARD_SW && rv != ESC_ERR_NOT_FOUND)
        return rv;
    rv = ck_list_objects(card, objs, MAX_LISTED, &n);
    if (rv == ESC_ERR_TOO_BIG)
        rv = ESC_OK;
    for (size_t i = 0; rv == ESC_OK && i < n; i++)
        if ((objs[i].id >> 24) == 'C' && objs[i].size > 0)
            f->ncerts++;
    return rv;
}

/* Read every certificate (z0, else the separate layout) for EXPIRED and the facts. */
static esc_err read_certs(pcsc_card *card, struct probe_facts *f, struct certs_seen *cs, time_t now)
{
    struct ck_certs cc;
    esc_err rv = ck_read_certs(card, &cc);

    if (rv != ESC_OK)
        return rv;
    if (cc.note != ESC_OK)
        f->err = cc.note; /* z0 unusable (the card needs enrolling again), or too much to read */
    if (cc.have_cuid && !f->have_cuid) {
        memcpy(f->cuid, cc.cuid, CK_CUID_LEN);
        f->have_cuid = true;
    }
    f->ncerts = cc.n;
    for (size_t i = 0; i < cc.n; i++)
        note_cert(f, cs, cc.cert[i].der, cc.cert[i].der_len, now);
    ck_certs_free(&cc);
    return ESC_OK;
}

/* Applet version, issuer info (phone-home URL): facts for escctl and the agent, not needed
 * for the decision. */
static esc_err read_applet_facts(pcsc_card *card, struct probe_facts *f)
{
    struct ck_status st;
    uint32_t build;
    esc_err rv = ck_get_status(card, &st);

    if (card_broken(rv))
        return rv;
    if (rv == ESC_OK) {
        snprintf(f->applet_version, sizeof f->applet_version, "%u.%u", st.applet_major,
                 st.applet_minor);
        rv = ck_get_build_id(card, &build);
        if (card_broken(rv))
            return rv;
        if (rv == ESC_OK) /* the TPS's form: major.minor.<build id, 8 lower-case hex digits> */
            snprintf(f->applet_version, sizeof f->applet_version, "%u.%u.%08x", st.applet_major,
                     st.applet_minor, (unsigned)build);
    }
    rv = ck_get_issuer_info(card, f->phone_home_url, sizeof f->phone_home_url);
    if (card_broken(rv) && rv != ESC_ERR_CARD_GARBAGE && rv != ESC_ERR_TOO_BIG)
        return rv;
    if (rv != ESC_OK) {
        f->phone_home_url[0] = '\0';
        if (rv == ESC_ERR_CARD_GARBAGE) /* unprintable issuer info: a fact, not a dead card */
            f->err = rv;
    }
    return ESC_OK;
}

/* CUID from the card manager's CPLC data; leaves the CoolKey applet selected again, as
 * coolkey expects, when it was there. */
static esc_err read_cuid(pcsc_card *card, struct probe_facts *f)
{
    struct ck_cplc cplc;
    esc_err rv = ck_get_cplc(card, &cplc);

    if (card_broken(rv))
        return rv;
    if (rv == ESC_OK) {
        memcpy(f->cuid, cplc.cuid, CK_CUID_LEN);
        f->have_cuid = true;
    }
    if (f->state != PROBE_NO_APPLET) {
        rv = ck_select(card);
        if (card_broken(rv))
            return rv;
    }
    return ESC_OK;
}

/* The applet part of the probe. Returns a transport-level error, or ESC_OK with the
 * state decided. With decide_only: SELECT, LIFE CYCLE, PIN TRIES and, on a personalised
 * card, the z0 header (or the certificates themselves when check_expiry): 4 APDUs for an
 * enrolled card instead of about 16. */
static esc_err probe_applet(pcsc_card *card, struct probe_facts *f, time_t now,
                            const struct probe_opts *o)
{
    bool quick = o && o->decide_only;
    struct certs_seen cs = {0, 0};
    struct ck_life_cycle lc;
    uint8_t tries;
    esc_err rv;

    rv = ck_select(card);
    if (rv == ESC_ERR_NO_APPLET) {
        f->state = PROBE_NO_APPLET;
        return quick ? ESC_OK : read_cuid(card, f);
    }
    if (rv != ESC_OK)
        return rv;
    rv = ck_get_life_cycle(card, &lc);
    if (card_broken(rv))
        return rv;
    if (rv == ESC_OK)
        f->life_cycle = lc.life_cycle;
    if (!quick) {
        rv = read_applet_facts(card, f);
        if (rv != ESC_OK)
            return rv;
    }
    if (!quick || f->life_cycle == CK_LC_PERSONALIZED) {
        rv = ck_get_pin_tries(card, CK_USER_PIN, &tries);
        if (card_broken(rv))
            return rv;
        if (rv == ESC_OK)
            f->pin_tries_left = tries;
    }
    if (f->life_cycle == CK_LC_PERSONALIZED) {
        if (!quick || (o->check_expiry && f->pin_tries_left != 0))
            rv = read_certs(card, f, &cs, now);
        else if (f->pin_tries_left != 0)
            rv = certs_present(card, f);
        if (card_broken(rv))
            return rv;
    }
    decide(f, &cs);
    return quick ? ESC_OK : read_cuid(card, f);
}

static void probe_present(pcsc_ctx *ctx, const char *reader, time_t now, const struct probe_opts *o,
                          struct probe_facts *f)
{
    pcsc_card *card = NULL;
    esc_err rv;

    rv = pcsc_connect(ctx, reader, &card);
    if (rv != ESC_OK)
        goto out;
    if (!f->atr_len) { /* the reader list gave it already */
        rv = pcsc_status(card, f->atr, sizeof f->atr, &f->atr_len);
        if (rv != ESC_OK)
            goto out;
    }
    rv = pcsc_begin(card);
    if (rv != ESC_OK)
        goto out;
    rv = probe_applet(card, f, now, o);
    pcsc_end(card);
out:
    pcsc_disconnect(card, false);
    if (rv == ESC_ERR_NO_CARD) {
        f->state = PROBE_NO_CARD;
        f->err = rv;
    } else if (rv != ESC_OK) {
        f->state = PROBE_ERROR;
        f->err = rv;
    }
    if (f->have_cuid)
        ck_cuid_hex(f->cuid, f->cuid_hex);
}

static enum probe_state absent_state(esc_err e)
{
    switch (e) {
    case ESC_ERR_NO_PCSCD:
    case ESC_ERR_PCSCD_HUNG:
        return PROBE_NO_PCSCD;
    case ESC_ERR_NO_READER:
        return PROBE_NO_READER;
    case ESC_ERR_NO_CARD:
        return PROBE_NO_CARD;
    default:
        return PROBE_ERROR;
    }
}

static void fill_absent(struct probe_facts *f, esc_err e, uint64_t t0)
{
    init_facts(f);
    f->state = absent_state(e);
    f->err = e;
    f->elapsed_ms = (unsigned)(esc_mono_ms() - t0);
}

static void probe_one(pcsc_ctx *ctx, const struct pcsc_reader *r, const struct probe_opts *o,
                      time_t now, uint64_t t0, struct probe_facts *f)
{
    init_facts(f);
    snprintf(f->reader, sizeof f->reader, "%s", r->name);
    f->event_count = r->event_count;
    if (!r->card_present) {
        f->state = PROBE_NO_CARD;
        f->err = ESC_ERR_NO_CARD;
    } else if (r->card_mute) {
        f->state = PROBE_ERROR;
        f->err = ESC_ERR_CARD_MUTE;
        f->atr_len = r->atr_len;
        memcpy(f->atr, r->atr, r->atr_len);
    } else {
        f->atr_len = r->atr_len;
        memcpy(f->atr, r->atr, r->atr_len);
        probe_present(ctx, r->name, now, o, f);
    }
    f->elapsed_ms = (unsigned)(esc_mono_ms() - t0);
}

size_t probe_all(const struct probe_opts *opts, struct probe_facts *out, size_t max)
{
    struct pcsc_reader readers[PCSC_MAX_READERS];
    unsigned tmo = opts && opts->timeout_ms ? opts->timeout_ms : PROBE_DEFAULT_TIMEOUT_MS;
    time_t now = opts && opts->now ? opts->now : time(NULL);
    const char *want = opts && opts->reader && *opts->reader ? opts->reader : NULL;
    uint64_t t0 = esc_mono_ms();
    pcsc_ctx *ctx = NULL;
    size_t nr = 0, n = 0;
    esc_err rv;

    if (!out || max == 0)
        return 0;
    rv = pcsc_open(&ctx, tmo);
    if (rv == ESC_OK)
        rv = pcsc_list_readers(ctx, readers, PCSC_MAX_READERS, &nr);
    if (rv != ESC_OK) {
        fill_absent(&out[0], rv, t0);
        pcsc_close(ctx);
        return 1;
    }
    for (size_t i = 0; i < nr && n < max; i++) {
        uint64_t t1 = esc_mono_ms();
        if (want && strcmp(want, readers[i].name) != 0)
            continue;
        probe_one(ctx, &readers[i], opts, now, t1, &out[n++]);
    }
    if (n == 0) { /* the configured reader is not connected */
        fill_absent(&out[0], ESC_ERR_NO_READER, t0);
        snprintf(out[0].reader, sizeof out[0].reader, "%s", want ? want : "");
        n = 1;
    }
    pcsc_close(ctx);
    return n;
}

/* Is `reader` on the seat the probe is for? The seat it is on goes to `seat`. No APDU: the
 * channel ID comes from the driver. */
static bool on_seat(pcsc_ctx *ctx, const struct probe_opts *o, const char *reader, char *seat,
                    size_t cap)
{
    uint32_t channel = 0;

    if (!o || !o->seat)
        return true;
    if (pcsc_reader_channel(ctx, reader, &channel) == ESC_OK)
        seat_of_channel(channel, o->udev_dir, seat, cap);
    else
        snprintf(seat, cap, "seat0"); /* no USB device to ask udev about: logind's default */
    if (o->reader_seat)               /* tests only: what udev would have said */
        snprintf(seat, cap, "%s", o->reader_seat);
    log_debug("reader \"%s\" (channel %08x) is on %s", reader, (unsigned)channel, seat);
    return strcmp(seat, o->seat) == 0;
}

/* opts->known decides for the card: the named reader's, else the only one in any reader. This
 * comes before the seat check (pcscd round trips of its own): a remembered card is left alone,
 * which is also what a card on another seat gets. */
static bool known_card(const struct probe_opts *o, const struct pcsc_reader *r, uint64_t t0,
                       struct probe_facts *out)
{
    if (!r->card_present || r->card_mute)
        return false;
    init_facts(out);
    snprintf(out->reader, sizeof out->reader, "%s", r->name);
    out->event_count = r->event_count;
    out->atr_len = r->atr_len;
    memcpy(out->atr, r->atr, r->atr_len);
    if (!o->known(o->known_arg, r, out))
        return false;
    out->from_cache = true;
    out->elapsed_ms = (unsigned)(esc_mono_ms() - t0);
    return true;
}

static bool remembered(const struct probe_opts *o, const struct pcsc_reader *readers, size_t nr,
                       uint64_t t0, struct probe_facts *out, size_t *which)
{
    const char *want = o && o->reader && *o->reader ? o->reader : NULL;
    size_t with_card = 0, at = 0;

    if (!o || !o->known)
        return false;
    for (size_t i = 0; i < nr; i++) {
        if (want ? strcmp(want, readers[i].name) == 0 : readers[i].card_present) {
            with_card++;
            at = i;
        }
    }
    *which = at;
    return with_card == 1 && known_card(o, &readers[at], t0, out);
}

/* Opens a context and picks the reader to probe: the named one, else the first holding a card,
 * else the first; with opts->seat, only one on that seat. Returns false with `out` filled when
 * there is nothing to probe (no pcscd, no reader, the named reader missing, the card on another
 * seat); the context is then closed. */
static bool pick_reader(const struct probe_opts *opts, uint64_t t0, pcsc_ctx **ctx,
                        struct pcsc_reader *picked, struct probe_facts *out, bool *known)
{
    struct pcsc_reader readers[PCSC_MAX_READERS];
    unsigned tmo = opts && opts->timeout_ms ? opts->timeout_ms : PROBE_DEFAULT_TIMEOUT_MS;
    const char *want = opts && opts->reader && *opts->reader ? opts->reader : NULL;
    char seat[SEAT_NAME_MAX] = "", elsewhere[SEAT_NAME_MAX] = "";
    size_t nr = 0, pick, skipped = 0, at = 0;
    bool confirm = opts && opts->known && opts->confirm_known;
    esc_err rv;

    *ctx = NULL;
    *known = false;
    /* a remembered card is decided from pcscd's reader states alone, asked for without a
     * libpcsclite context (pcscd_wire.h: one round trip instead of five, no watchdog thread);
     * anything else (pcscd away, another protocol, no such card) takes the usual way */
    if (opts && opts->known && !confirm &&
        pcscd_wire_readers(readers, PCSC_MAX_READERS, &nr, tmo) == ESC_OK &&
        remembered(opts, readers, nr, t0, out, &at))
        return false;
    rv = pcsc_open(ctx, tmo);
    if (rv == ESC_OK)
        rv = pcsc_list_readers(*ctx, readers, PCSC_MAX_READERS, &nr);
    if (rv != ESC_OK) {
        fill_absent(out, rv, t0);
        pcsc_close(*ctx);
        *ctx = NULL;
        return false;
    }
    if (remembered(opts, readers, nr, t0, out, &at)) {
        if (confirm) { /* one APDU yet, on this context (probe_card) */
            *picked = readers[at];
            *known = true;
            return true;
        }
        pcsc_close(*ctx);
        *ctx = NULL;
        return false;
    }
    for (pick = 0; pick < nr; pick++) {
        if (want ? strcmp(want, readers[pick].name) != 0 : !readers[pick].card_present)
            continue;
        if (on_seat(*ctx, opts, readers[pick].name, seat, sizeof seat))
            break;
        if (!elsewhere[0]) {
            skipped = pick;
            memcpy(elsewhere, seat, sizeof elsewhere);
        }
        if (want)
            break;
    }
    if (elsewhere[0] && (pick == nr || want)) { /* left alone: another seat's reader */
        fill_absent(out, ESC_ERR_NO_CARD, t0);
        snprintf(out->reader, sizeof out->reader, "%s", readers[skipped].name);
        memcpy(out->other_seat, elsewhere, sizeof out->other_seat);
        pcsc_close(*ctx);
        *ctx = NULL;
        return false;
    }
    if (pick == nr && want) {
        fill_absent(out, ESC_ERR_NO_READER, t0);
        snprintf(out->reader, sizeof out->reader, "%s", want);
        pcsc_close(*ctx);
        *ctx = NULL;
        return false;
    }
    *picked = readers[pick == nr ? 0 : pick];
    return true;
}

/* A remembered card (opts->confirm_known): its PIN tries now. SELECT comes first: the last
 * program may have left another applet selected (coolkey resets the card at its end, which
 * selects the card manager). Both APDUs, the transaction and the disconnect go to pcscd in one
 * write (ck_pin_tries_leave). Any unexpected answer falls back to the whole probe, on the same
 * context. */
static void confirm_known(pcsc_ctx *ctx, const struct pcsc_reader *r, const struct probe_opts *o,
                          time_t now, uint64_t t0, struct probe_facts *f)
{
    pcsc_card *card = NULL;
    uint8_t tries = 0;
    esc_err rv = pcsc_connect(ctx, r->name, &card);

    if (rv == ESC_OK)
        rv = ck_pin_tries_leave(card, CK_USER_PIN, &tries); /* disconnects the card */
    if (rv != ESC_OK) {
        log_debug("remembered card in \"%s\": PIN tries not read (%s), probing it", r->name,
                  esc_err_name(rv));
        probe_one(ctx, r, o, now, t0, f);
        return;
    }
    f->pin_tries_left = tries;
    f->tries_read = true;
    if (tries == 0)
        f->state = PROBE_PIN_LOCKED;
    f->elapsed_ms = (unsigned)(esc_mono_ms() - t0);
}

void probe_card(const struct probe_opts *opts, struct probe_facts *out)
{
    struct pcsc_reader r;
    time_t now = opts && opts->now ? opts->now : time(NULL);
    uint64_t t0 = esc_mono_ms();
    pcsc_ctx *ctx;
    bool known;

    if (!out || !pick_reader(opts, t0, &ctx, &r, out, &known))
        return;
    if (!known && opts && opts->known && known_card(opts, &r, t0, out)) /* several: this seat's */
        known = true;
    if (known && opts->confirm_known)
        confirm_known(ctx, &r, opts, now, t0, out);
    else if (!known)
        probe_one(ctx, &r, opts, now, t0, out);
    pcsc_close(ctx);
}
