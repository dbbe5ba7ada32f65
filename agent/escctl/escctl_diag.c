/* escctl diag: the command, its output, and the local checks (esc.conf, pcscd, readers, card).
 * See escctl_diag.h; the network checks are in escctl_diag_net.c. */
#include "escctl_diag.h"
#include "escctl_text.h"

#include "escctl.h"
#include "escctl_ops.h"
#include "log.h"
#include "pcsc.h"
#include "pcscd_wire.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* As escctl status: escctl is not on the login path, so slow cards get at least this long. */
#define DIAG_MIN_CARD_TIMEOUT_MS 2000
#define DIAG_NET_TIMEOUT_MS      10000

static const char *const check_names[DIAG_NCHECKS] = {
    "conf", "pcscd", "reader", "card", "phone_home_url", "trust", "phone_home", "tps", "login",
};

bool diag_add(struct diag *d, const char *name, enum diag_result result, int code, const char *fmt,
              ...)
{
    va_list ap;
    if (d->n >= DIAG_NCHECKS)
        return false;
    struct diag_check *c = &d->checks[d->n++];
    c->name = name;
    c->result = result;
    c->code = result == DIAG_PROBLEM ? code : ESCCTL_EXIT_OK;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
    return result == DIAG_OK;
}

/* ---- 1. esc.conf ---- */

static bool check_conf(struct diag *d, const char *path)
{
    char err[512] = "";
    const char *p = path && *path ? path : conf_default_path();
    esc_err e = conf_load(path, &d->conf, err, sizeof err);
    if (e == ESC_ERR_CONF_MISSING)
        return diag_add(d, "conf", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                        "%s: create it, or name another with --conf or $ESC_CONF.",
                        err[0] ? err : p);
    if (e != ESC_OK)
        return diag_add(d, "conf", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                        "%s: correct this in esc.conf (see esc.conf(5)).",
                        err[0] ? err : esc_strerror(e));
    conf_apply_log_level(&d->conf);
    d->trust = trust_policy_from_conf(&d->conf);
    if (access(p, F_OK) != 0)
        return diag_add(d, "conf", DIAG_OK, 0, "%s does not exist: the defaults are used.", p);
    return diag_add(d, "conf", DIAG_OK, 0, "%s is readable and valid.", p);
}

/* ---- 2. pcscd, 3. readers ---- */

static bool check_pcscd(struct diag *d, pcsc_ctx **ctx)
{
    esc_err e = pcsc_open(ctx, d->card_timeout_ms);
    switch (e) {
    case ESC_OK:
        return diag_add(d, "pcscd", DIAG_OK, 0, "pcscd answers on %s.", pcscd_socket_path());
    case ESC_ERR_NO_PCSCD:
        return diag_add(d, "pcscd", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "pcscd is not running (nothing answers on %s): start it "
                        "(systemctl start pcscd.socket).",
                        pcscd_socket_path());
    case ESC_ERR_PCSCD_HUNG:
    case ESC_ERR_TIMEOUT:
        return diag_add(d, "pcscd", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "pcscd accepts connections on %s but does not answer within %u ms: it "
                        "is stopped or wedged; restart it (systemctl restart pcscd).",
                        pcscd_socket_path(), d->card_timeout_ms);
    default:
        return diag_add(d, "pcscd", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "pcscd on %s failed: %s; restart it (systemctl restart pcscd).",
                        pcscd_socket_path(), esc_strerror(e));
    }
}

/* Append ", NAME (state)" for each reader to `out`. */
static void list_readers(const struct pcsc_reader *r, size_t n, char *out, size_t cap)
{
    size_t pos = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && pos < cap; i++) {
        int k = snprintf(out + pos, cap - pos, "%s%s (%s)", i ? ", " : "", r[i].name,
                         r[i].card_mute      ? "card not answering"
                         : r[i].exclusive    ? "card held by another program"
                         : r[i].card_present ? "card"
                                             : "empty");
        if (k < 0)
            break;
        pos += (size_t)k;
    }
}

/* On success `chosen` holds the reader to probe. */
static bool check_reader(struct diag *d, pcsc_ctx *ctx, const char *want, char *chosen, size_t cap)
{
    struct pcsc_reader r[PCSC_MAX_READERS];
    char names[DIAG_DETAIL_MAX / 2];
    size_t n = 0;
    const struct pcsc_reader *use = NULL;
    esc_err e = pcsc_list_readers(ctx, r, PCSC_MAX_READERS, &n);

    if (e == ESC_ERR_NO_READER || (e == ESC_OK && n == 0))
        return diag_add(d, "reader", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "pcscd sees no smart-card reader: connect the reader (and check that "
                        "its driver is installed).");
    if (e != ESC_OK)
        return diag_add(d, "reader", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "The readers could not be listed: %s; restart pcscd.", esc_strerror(e));
    list_readers(r, n, names, sizeof names);
    for (size_t i = 0; i < n && !use; i++) {
        if (want && *want ? strcmp(r[i].name, want) == 0 : r[i].card_present)
            use = &r[i];
    }
    if (!use && want && *want)
        return diag_add(d, "reader", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "The reader \"%s\" is not connected (readers: %s): connect it, or name "
                        "another with --reader or reader in esc.conf.",
                        want, names);
    if (!use)
        return diag_add(d, "reader", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "No card in any reader (readers: %s): insert the card.", names);
    if (!use->card_present)
        return diag_add(d, "reader", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "No card in the reader \"%s\" (readers: %s): insert the card.", use->name,
                        names);
    if (use->card_mute)
        return diag_add(d, "reader", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "The card in \"%s\" does not answer reset: take it out and insert it "
                        "again; if that does not help, it is not a supported card.",
                        use->name);
    if (use->exclusive)
        return diag_add(d, "reader", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "Another program holds the card in \"%s\" exclusively: close it (a "
                        "browser or another smart-card tool) and try again.",
                        use->name);
    size_t len = strnlen(use->name, sizeof use->name);
    if (len >= cap)
        len = cap - 1;
    memcpy(chosen, use->name, len);
    chosen[len] = '\0';
    snprintf(d->reader, sizeof d->reader, "%s", chosen);
    return diag_add(d, "reader", DIAG_OK, 0, "%zu reader%s: %s; using \"%s\".", n,
                    n == 1 ? "" : "s", names, use->name);
}

/* ---- 4. the card ---- */

static void date_of(long long t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    out[0] = '\0';
    if (t > 0 && gmtime_r(&tt, &tm))
        strftime(out, cap, "%Y-%m-%d", &tm);
}

static bool check_card(struct diag *d, const char *reader)
{
    struct probe_opts po = {.timeout_ms = d->card_timeout_ms, .reader = reader};
    struct probe_facts *f = &d->facts;
    char facts[200], until[16];
    const char *cuid;

    probe_card(&po, f);
    cuid = f->have_cuid ? f->cuid_hex : "unknown";
    snprintf(facts, sizeof facts, "CUID %s, applet %s", cuid,
             f->applet_version[0] ? f->applet_version : "unknown");
    date_of(f->not_after, until, sizeof until);
    switch (f->state) {
    case PROBE_ENROLLED:
        if (!f->have_cuid || !ph_cuid_ok(f->cuid_hex))
            return diag_add(d, "card", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                            "The card is enrolled but its serial number (CUID) cannot be read, "
                            "so no token server can be found for it: reinsert it; if that does "
                            "not help, the card is faulty.");
        if (f->pin_tries_left >= 0)
            return diag_add(d, "card", DIAG_OK, 0,
                            "ENROLLED: %s, %d PIN tries left, %zu certificate%s valid until %s.",
                            facts, f->pin_tries_left, f->ncerts, f->ncerts == 1 ? "" : "s",
                            until[0] ? until : "?");
        return diag_add(d, "card", DIAG_OK, 0, "ENROLLED: %s, %zu certificate%s valid until %s.",
                        facts, f->ncerts, f->ncerts == 1 ? "" : "s", until[0] ? until : "?");
    case PROBE_PIN_LOCKED:
        return diag_add(d, "card", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "PIN locked (0 tries left; %s): unblock it with escctl reset-pin.", facts);
    case PROBE_EXPIRED:
        return diag_add(d, "card", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "Every certificate on the card has expired (the last on %s; %s): renew "
                        "them with escctl renew.",
                        until[0] ? until : "?", facts);
    case PROBE_UNINITIALIZED:
        return diag_add(d, "card", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "The card is not enrolled (UNINITIALIZED: %s): enroll it with escctl "
                        "enroll.",
                        facts);
    case PROBE_NO_APPLET:
        return diag_add(d, "card", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "The card has no CoolKey applet (NO_APPLET, CUID %s): escctl enroll "
                        "installs it and enrolls the card.",
                        cuid);
    case PROBE_NO_CARD:
        return diag_add(d, "card", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "The card was removed while it was read: insert it again.");
    default:
        return diag_add(d, "card", DIAG_PROBLEM, ESCCTL_EXIT_CARD,
                        "The card could not be read (%s: %s): take it out and insert it "
                        "again; if that does not help, the card is faulty.",
                        probe_state_name(f->state), esc_strerror(f->err));
    }
}

/* ---- output ---- */

void diag_json_str(FILE *f, const char *s)
{
    if (!s || !*s)
        fputs("null", f);
    else
        escctl_json_str(f, s);
}

static const char *result_name(enum diag_result r)
{
    return r == DIAG_OK ? "ok" : r == DIAG_PROBLEM ? "problem" : "skipped";
}

static void print(struct diag *d, bool json)
{
    if (!json) {
        for (size_t i = 0; i < d->n; i++) {
            const struct diag_check *c = &d->checks[i];
            printf("%-8s %-15s %s\n", result_name(c->result), c->name, c->detail);
        }
        diag_report_text(d, stdout);
        return;
    }
    /* one object: the checks in their order, then the report's fields */
    fputs("{\n  \"checks\": [\n", stdout);
    for (size_t i = 0; i < d->n; i++) {
        const struct diag_check *c = &d->checks[i];
        fputs("    {\"check\": ", stdout);
        diag_json_str(stdout, c->name);
        printf(", \"result\": \"%s\", \"detail\": ", result_name(c->result));
        diag_json_str(stdout, c->detail);
        fputs(i + 1 < d->n ? "},\n" : "}\n", stdout);
    }
    fputs("  ],\n", stdout);
    diag_report_json(d, stdout);
    fputs("}\n", stdout);
}

/* ---- the command ---- */

static bool needs_operation(enum probe_state s)
{
    return esc_op_for_state(s) != 0;
}

static bool run_checks(struct diag *d)
{
    const char *conf_path = d->args->conf_path, *reader = d->args->reader;
    unsigned long tmo = d->args->timeout_ms;
    pcsc_ctx *ctx = NULL;
    char chosen[PCSC_READER_NAME_MAX] = "";
    bool ok;

    if (!check_conf(d, conf_path))
        return false;
    if (tmo) {
        d->card_timeout_ms = (unsigned)tmo;
        d->net_timeout_ms = (long)tmo;
    } else {
        d->card_timeout_ms = d->conf.probe_timeout_ms > DIAG_MIN_CARD_TIMEOUT_MS
                                 ? d->conf.probe_timeout_ms
                                 : DIAG_MIN_CARD_TIMEOUT_MS;
        d->net_timeout_ms = DIAG_NET_TIMEOUT_MS;
    }
    ok = check_pcscd(d, &ctx) &&
         check_reader(d, ctx, reader && *reader ? reader : d->conf.reader, chosen, sizeof chosen);
    pcsc_close(ctx); /* the probe opens its own, bounded context */
    if (!ok)
        return false;
    /* a card that needs an operation (enroll, reset-pin, renew) needs the servers for it: they
     * are checked too; a card that cannot be read stops here */
    if (!check_card(d, chosen) && !needs_operation(d->facts.state))
        return false;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ok = diag_check_ph_url(d) && diag_check_trust(d) && diag_check_phone_home(d) &&
         diag_check_tps(d);
    /* the login check needs the card's certificate: after a card problem (a locked PIN) it
     * still runs when the servers are fine, as they are for the fix */
    if (ok)
        ok = diag_check_login(d);
    curl_global_cleanup();
    return ok;
}

int escctl_cmd_diag(int argc, char **argv)
{
    static struct diag d; /* large: profiles and facts */
    struct diag_args a;
    int code = diag_parse_args(argc, argv, &a);

    if (code >= 0)
        return code;
    code = ESCCTL_EXIT_OK;
    memset(&d, 0, sizeof d);
    d.args = &a;
    run_checks(&d);
    for (size_t i = d.n; i < DIAG_NCHECKS; i++)
        diag_add(&d, check_names[i], DIAG_SKIPPED, 0,
                 "Not checked: it depends on the check that found a problem.");
    for (size_t i = 0; i < d.n && code == ESCCTL_EXIT_OK; i++)
        if (d.checks[i].result == DIAG_PROBLEM)
            code = d.checks[i].code;
    print(&d, a.json);
    certs_card_free(&d.certs);
    if (fflush(stdout) != 0 || ferror(stdout))
        return ESCCTL_EXIT_FAIL;
    return code;
}
