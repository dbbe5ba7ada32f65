/* escctl diag: the report after the checks (escctl_diag.h), the facts of ESC's diagnostics
 * report (reference/peers.md A.7) as fields: the client's version, the cards (each reader
 * holding one: the probe's facts as escctl status gives them, the Phone Home profile, the
 * certificates as escctl certs decodes them), the login check's findings and the last events
 * of the event log (common/events.h). Card, server and log text is hostile: it is escaped in
 * JSON and shown with control bytes as \xNN in text. Nothing here sends a PIN. */
#include "escctl_diag.h"
#include "escctl_text.h"

#include "events.h"
#include "log.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef ESC_VERSION
#define ESC_VERSION "unknown"
#endif

#define REPORT_MIN_CARD_TIMEOUT_MS 2000

struct report_card {
    struct probe_facts facts;
    struct ph_profile profile;
    const char *profile_from; /* "phone_home", "cache" or NULL */
    struct certs_card certs;  /* owned unless borrowed */
    bool borrowed;            /* certs points into the diag (check 9 read them) */
    esc_err certs_err;        /* ESC_OK: certs read */
};

static struct report {
    bool gathered;
    size_t nreaders, ncards;
    struct probe_facts readers[PCSC_MAX_READERS];
    struct report_card cards[PCSC_MAX_READERS];
    char events_path[PATH_MAX];
    unsigned nevents;
    struct event_rec *events; /* the last args->events, oldest first */
} R;

static bool holds_card(const struct probe_facts *p)
{
    return (p->state >= PROBE_NO_APPLET && p->state <= PROBE_EXPIRED) ||
           (p->state == PROBE_ERROR && p->atr_len > 0);
}

static void gather_profile(struct diag *d, struct report_card *c)
{
    const struct probe_facts *f = &c->facts;
    if (d->have_fetched && strcmp(f->reader, d->reader) == 0) {
        c->profile = d->fetched;
        c->profile_from = "phone_home";
        return;
    }
    if (f->have_cuid && ph_cuid_ok(f->cuid_hex) && d->cache_dir[0] &&
        ph_cache_load(d->cache_dir, f->cuid_hex, &c->profile) == 0)
        c->profile_from = "cache";
}

static void gather_certs(struct diag *d, struct report_card *c, unsigned tmo)
{
    if (d->have_certs && strcmp(c->facts.reader, d->reader) == 0) {
        c->certs = d->certs;
        c->borrowed = true;
        c->certs_err = ESC_OK;
        return;
    }
    if (c->facts.state != PROBE_ENROLLED && c->facts.state != PROBE_PIN_LOCKED &&
        c->facts.state != PROBE_EXPIRED) {
        c->certs_err = ESC_ERR_NO_APPLET; /* nothing enrolled: no certificates to read */
        memset(&c->certs, 0, sizeof c->certs);
        return;
    }
    c->certs_err = certs_read_card(c->facts.reader, tmo, &c->certs);
}

/* Keep the last `max` events of the file at `path` in the ring R.events. */
static void tail_file(const char *path, unsigned max, unsigned long long *seen)
{
    char chunk[8192], line[EVENTS_LINE_MAX];
    size_t len = 0;
    bool overlong = false;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (chunk[i] != '\n') {
                if (len < sizeof line)
                    line[len++] = chunk[i];
                else
                    overlong = true;
                continue;
            }
            if (!overlong && events_parse_line(line, len, &R.events[*seen % max]) == 0)
                (*seen)++;
            len = 0;
            overlong = false;
        }
    }
    close(fd);
}

static void gather_events(unsigned max)
{
    char old[PATH_MAX + 2];
    unsigned long long seen = 0;

    if (events_default_path(R.events_path, sizeof R.events_path) != 0) {
        R.events_path[0] = '\0';
        return;
    }
    if (max == 0)
        return;
    R.events = calloc(max, sizeof *R.events);
    if (!R.events)
        return;
    snprintf(old, sizeof old, "%s.1", R.events_path);
    tail_file(old, max, &seen);
    tail_file(R.events_path, max, &seen);
    if (seen > max) { /* rotate the ring so that the oldest kept comes first */
        struct event_rec *tmp = calloc(max, sizeof *tmp);
        if (tmp) {
            for (unsigned i = 0; i < max; i++)
                tmp[i] = R.events[(seen + i) % max];
            free(R.events);
            R.events = tmp;
        }
    }
    R.nevents = seen < max ? (unsigned)seen : max;
}

static void gather(struct diag *d)
{
    struct probe_opts po = {0};
    bool pcscd_ok = d->n >= 2 && d->checks[1].result == DIAG_OK;
    unsigned tmo = d->card_timeout_ms ? d->card_timeout_ms : REPORT_MIN_CARD_TIMEOUT_MS;

    if (R.gathered)
        return;
    R.gathered = true;
    if (pcscd_ok) { /* no pcscd: the pcscd check said so, and the probe would wait again */
        po.timeout_ms = tmo;
        R.nreaders = probe_all(&po, R.readers, PCSC_MAX_READERS);
    }
    for (size_t i = 0; i < R.nreaders; i++) {
        struct report_card *c = &R.cards[R.ncards];
        if (!holds_card(&R.readers[i]))
            continue;
        c->facts = R.readers[i];
        gather_profile(d, c);
        gather_certs(d, c, tmo);
        R.ncards++;
    }
    gather_events(d->args->events);
}

static void release(void)
{
    for (size_t i = 0; i < R.ncards; i++)
        if (!R.cards[i].borrowed)
            certs_card_free(&R.cards[i].certs);
    free(R.events);
    R.events = NULL;
}

/* ---- JSON ---- */

static void kv(FILE *f, const char *k, const char *v, bool comma)
{
    fprintf(f, "\"%s\": ", k);
    diag_json_str(f, v);
    if (comma)
        fputs(", ", f);
}

static void atr_hex(const struct probe_facts *p, char *out, size_t cap)
{
    size_t pos = 0;
    out[0] = '\0';
    for (size_t i = 0; i < p->atr_len && pos + 3 < cap; i++)
        pos += (size_t)snprintf(out + pos, cap - pos, "%02X", p->atr[i]);
}

static void iso_time(long long t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    out[0] = '\0';
    if (t > 0 && gmtime_r(&tt, &tm))
        strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The certificates of one card, each as escctl certs --json prints it. */
static void certs_json(FILE *f, const struct report_card *c, struct certs_view *v, time_t now)
{
    fputs("\"certificates\": [", f);
    for (size_t i = 0; c->certs_err == ESC_OK && i < c->certs.n; i++) {
        struct certs_obj o = c->certs.obj[i];
        o.der_len = certs_der_len(o.der, o.der_len); /* card objects may be padded */
        certs_decode(o.der, o.der_len, now, v);
        fputs(i ? ",\n        " : "\n        ", f);
        certs_print_json(f, NULL, &o, v);
    }
    fputs(c->certs_err == ESC_OK && c->certs.n ? "\n      ], " : "], ", f);
    kv(f, "certificates_error",
       c->certs_err == ESC_OK || c->certs_err == ESC_ERR_NO_APPLET ? NULL
                                                                   : esc_strerror(c->certs_err),
       false);
}

static void card_json(FILE *f, const struct report_card *c, struct certs_view *v, time_t now)
{
    const struct probe_facts *p = &c->facts;
    const struct ph_profile *ph = &c->profile;
    char atr[2 * PCSC_ATR_MAX + 1], when[32];

    atr_hex(p, atr, sizeof atr);
    fputs("    {", f);
    kv(f, "reader", p->reader, true);
    kv(f, "state", probe_state_name(p->state), true);
    kv(f, "applet_version", p->applet_version, true);
    kv(f, "cuid", p->have_cuid ? p->cuid_hex : NULL, true);
    kv(f, "atr", atr, true);
    if (p->pin_tries_left >= 0)
        fprintf(f, "\"pin_tries_left\": %d, ", p->pin_tries_left);
    else
        fputs("\"pin_tries_left\": null, ", f);
    kv(f, "phone_home_url", p->phone_home_url, true);
    fputs("\n      ", f);
    kv(f, "issuer", ph->issuer, true);
    kv(f, "tps_phone_home_url", ph->source_url, true);
    kv(f, "tps_url", ph->operation, true);
    kv(f, "enrollment_ui_url", ph->ui, true);
    fputs("\n      ", f);
    kv(f, "enrolled_token_browser_url", ph->enrolled_browser_url, true);
    kv(f, "enrolled_token_url", ph->enrolled_url, true);
    kv(f, "token_type", ph->token_type, true);
    kv(f, "ca_chain_url", ph->ca_chain_ui, true);
    kv(f, "profile_from", c->profile_from, true);
    iso_time(c->profile_from ? ph->fetched_at : 0, when, sizeof when);
    kv(f, "profile_fetched_at", when, true);
    fputs("\n      ", f);
    certs_json(f, c, v, now);
    fputs("}", f);
}

static void login_json(FILE *f, const struct diag_login *l)
{
    fputs("  \"login\": ", f);
    if (!l->ran) {
        fputs("null,\n", f);
        return;
    }
    fputs("{", f);
    kv(f, "module", l->module, true);
    kv(f, "module_from", l->module_from, true);
    kv(f, "user", l->user, true);
    kv(f, "config", l->config, true);
    kv(f, "ca_store", l->ca_store, true);
    fprintf(f, "\"issuer_trusted\": %s, ",
            l->issuer_trusted < 0 ? "null"
            : l->issuer_trusted   ? "true"
                                  : "false");
    kv(f, "mapped_by", l->mapper, true);
    kv(f, "not_checked", l->not_checked, false);
    fputs("},\n", f);
}

static void event_json(FILE *f, const struct event_rec *r)
{
    fputs("    {", f);
    kv(f, "time", r->time, true);
    kv(f, "event", r->event, true);
    kv(f, "reader", r->reader, true);
    kv(f, "state", r->state, true);
    kv(f, "cuid", r->cuid, true);
    kv(f, "code", r->code, true);
    kv(f, "detail", r->detail, false);
    fputs("}", f);
}

void diag_report_json(struct diag *d, FILE *f)
{
    struct certs_view *v = malloc(sizeof *v);
    void *nss = NULL;
    time_t now = time(NULL);

    gather(d);
    fputs("  \"client_version\": ", f);
    diag_json_str(f, ESC_VERSION);
    fprintf(f, ",\n  \"readers\": %zu,\n  \"cards_detected\": %zu,\n  \"cards\": [", R.nreaders,
            R.ncards);
    if (v && certs_nss_open(&nss) == ESC_OK) {
        for (size_t i = 0; i < R.ncards; i++) {
            fputs(i ? ",\n" : "\n", f);
            card_json(f, &R.cards[i], v, now);
        }
        certs_nss_close(nss);
    }
    fputs(R.ncards ? "\n  ],\n" : "],\n", f);
    login_json(f, &d->login);
    fputs("  ", f);
    kv(f, "events_log", R.events_path, false);
    fputs(",\n  \"events\": [", f);
    for (unsigned i = 0; i < R.nevents; i++) {
        fputs(i ? ",\n" : "\n", f);
        event_json(f, &R.events[i]);
    }
    fputs(R.nevents ? "\n  ]\n" : "]\n", f);
    free(v);
    release();
}

/* ---- text: the same facts, briefly ---- */

static const char *dash(const char *s)
{
    return s && *s ? s : "-";
}

static void card_text(FILE *f, const struct report_card *c, struct certs_view *v, time_t now)
{
    const struct probe_facts *p = &c->facts;
    const struct ph_profile *ph = &c->profile;
    char atr[2 * PCSC_ATR_MAX + 1], nb[32], na[32];

    atr_hex(p, atr, sizeof atr);
    fputs("card  ", f);
    escctl_put_text(f, p->reader);
    fprintf(f, ": %s, CUID %s, applet %s, ATR %s\n", probe_state_name(p->state),
            p->have_cuid ? p->cuid_hex : "-", dash(p->applet_version), dash(atr));
    fputs("      phone home (card) ", f);
    escctl_put_text(f, dash(p->phone_home_url));
    fputs("\n      issuer ", f);
    escctl_put_text(f, dash(ph->issuer));
    fputs(", phone home ", f);
    escctl_put_text(f, dash(ph->source_url));
    fputs(", TPS ", f);
    escctl_put_text(f, dash(ph->operation));
    fputs(", enrollment UI ", f);
    escctl_put_text(f, dash(ph->ui));
    fprintf(f, " (%s)\n", c->profile_from ? c->profile_from : "no profile");
    for (size_t i = 0; c->certs_err == ESC_OK && i < c->certs.n; i++) {
        size_t len = certs_der_len(c->certs.obj[i].der, c->certs.obj[i].der_len);
        certs_decode(c->certs.obj[i].der, len, now, v);
        fputs("      certificate ", f);
        escctl_put_text(f, c->certs.obj[i].id);
        if (!v->ok) {
            fprintf(f, ": %s\n", v->error);
            continue;
        }
        iso_time(v->not_before, nb, sizeof nb);
        iso_time(v->not_after, na, sizeof na);
        fputs(": ", f);
        escctl_put_text(f, v->subject);
        fprintf(f, ", serial %s, valid %s to %s%s\n", v->serial, nb, na,
                v->expired ? " (EXPIRED)" : "");
    }
}

void diag_report_text(struct diag *d, FILE *f)
{
    struct certs_view *v = malloc(sizeof *v);
    void *nss = NULL;
    time_t now = time(NULL);

    gather(d);
    fprintf(f, "\nescctl %s; %zu card%s in %zu reader%s\n", ESC_VERSION, R.ncards,
            R.ncards == 1 ? "" : "s", R.nreaders, R.nreaders == 1 ? "" : "s");
    if (v && certs_nss_open(&nss) == ESC_OK) {
        for (size_t i = 0; i < R.ncards; i++)
            card_text(f, &R.cards[i], v, now);
        certs_nss_close(nss);
    }
    if (R.nevents)
        fprintf(f, "events (the last %u of %s):\n", R.nevents, R.events_path);
    for (unsigned i = 0; i < R.nevents; i++) {
        const struct event_rec *r = &R.events[i];
        fprintf(f, "      %s %s", r->time, r->event);
        if (r->reader[0]) {
            fputs(" ", f);
            escctl_put_text(f, r->reader);
        }
        if (r->state[0])
            fprintf(f, " %s", r->state);
        if (r->code[0])
            fprintf(f, " [%s]", r->code);
        if (r->detail[0]) {
            fputs(": ", f);
            escctl_put_text(f, r->detail);
        }
        fputc('\n', f);
    }
    free(v);
    release();
}
