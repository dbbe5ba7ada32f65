/* escctl status / escctl list: probe every reader and print one line (or one JSON object)
 * per reader. */
#include "escctl.h"
#include "escctl_text.h"

#include "conf.h"
#include "escctl_agent.h"
#include "log.h"
#include "probe.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* escctl is not on the login path: give slow cards at least this long. */
#define ESCCTL_MIN_TIMEOUT_MS 2000

/* key: "string" or null when empty */
static void json_kv(FILE *f, const char *k, const char *v, bool last)
{
    fprintf(f, "\"%s\": ", k);
    if (v && *v)
        escctl_json_str(f, v);
    else
        fputs("null", f);
    fputs(last ? "" : ", ", f);
}

static void json_ki(FILE *f, const char *k, long v, bool known, bool last)
{
    fprintf(f, "\"%s\": ", k);
    if (known)
        fprintf(f, "%ld", v);
    else
        fputs("null", f);
    fputs(last ? "" : ", ", f);
}

static void atr_hex(const struct probe_facts *p, char *out, size_t cap)
{
    size_t pos = 0;
    out[0] = '\0';
    for (size_t i = 0; i < p->atr_len && pos + 3 < cap; i++)
        pos += (size_t)snprintf(out + pos, cap - pos, "%02X", p->atr[i]);
}

static bool has_card_facts(const struct probe_facts *p)
{
    return p->state >= PROBE_NO_APPLET && p->state <= PROBE_EXPIRED;
}

static void print_json(const struct probe_facts *f, size_t n)
{
    char atr[2 * PCSC_ATR_MAX + 1], lc[8], na[32];

    fputs("[\n", stdout);
    for (size_t i = 0; i < n; i++) {
        const struct probe_facts *p = &f[i];
        atr_hex(p, atr, sizeof atr);
        snprintf(lc, sizeof lc, "%02X", (unsigned)p->life_cycle & 0xFF);
        na[0] = '\0';
        if (p->not_after) {
            time_t t = (time_t)p->not_after;
            struct tm tm;
            if (gmtime_r(&t, &tm))
                strftime(na, sizeof na, "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        fputs("  {", stdout);
        json_kv(stdout, "reader", p->reader, false);
        json_kv(stdout, "atr", atr, false);
        json_kv(stdout, "cuid", p->have_cuid ? p->cuid_hex : NULL, false);
        json_kv(stdout, "applet_version", p->applet_version, false);
        json_kv(stdout, "life_cycle", p->life_cycle >= 0 ? lc : NULL, false);
        json_kv(stdout, "state", probe_state_name(p->state), false);
        json_ki(stdout, "pin_tries_left", p->pin_tries_left, p->pin_tries_left >= 0, false);
        json_kv(stdout, "phone_home_url", p->phone_home_url, false);
        json_ki(stdout, "certificates", (long)p->ncerts, has_card_facts(p), false);
        json_kv(stdout, "not_after", na, false);
        json_kv(stdout, "subject", p->subject, false);
        json_kv(stdout, "issuer", p->issuer, false);
        json_kv(stdout, "error", p->err != ESC_OK ? esc_strerror(p->err) : NULL, false);
        json_kv(stdout, "error_code", p->err != ESC_OK ? esc_err_name(p->err) : NULL, false);
        json_ki(stdout, "elapsed_ms", p->elapsed_ms, true, true);
        fputs(i + 1 < n ? "},\n" : "}\n", stdout);
    }
    fputs("]\n", stdout);
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

static void print_text(const struct probe_facts *f, size_t n, bool full)
{
    for (size_t i = 0; i < n; i++) {
        const struct probe_facts *p = &f[i];
        char atr[2 * PCSC_ATR_MAX + 1];
        const char *name = p->reader[0] ? p->reader : "-";

        if (p->state == PROBE_ERROR) {
            printf("%s: ERROR: %s\n", name, esc_strerror(p->err));
            continue;
        }
        if (!has_card_facts(p)) {
            printf("%s: %s: %s\n", name, probe_state_name(p->state), esc_strerror(p->err));
            continue;
        }
        if (!full) {
            printf("%s: %s cuid=%s\n", name, probe_state_name(p->state),
                   p->have_cuid ? p->cuid_hex : "-");
            continue;
        }
        atr_hex(p, atr, sizeof atr);
        printf("%s: %s cuid=%s applet=%s", name, probe_state_name(p->state),
               p->have_cuid ? p->cuid_hex : "-", or_dash(p->applet_version));
        if (p->life_cycle >= 0)
            printf(" life_cycle=%02X", (unsigned)p->life_cycle);
        else
            printf(" life_cycle=-");
        if (p->pin_tries_left >= 0)
            printf(" pin_tries_left=%d", p->pin_tries_left);
        else
            printf(" pin_tries_left=-");
        printf(" certificates=%zu phone_home=%s atr=%s", p->ncerts, or_dash(p->phone_home_url),
               or_dash(atr));
        if (p->err != ESC_OK)
            printf(" note=\"%s\"", esc_strerror(p->err));
        printf("\n");
    }
}

static int exit_code(const struct probe_facts *f, size_t n)
{
    bool any_card = false;
    for (size_t i = 0; i < n; i++) {
        if (f[i].state == PROBE_ERROR)
            return ESCCTL_EXIT_CARD;
        if (has_card_facts(&f[i]))
            any_card = true;
    }
    return any_card ? ESCCTL_EXIT_OK : ESCCTL_EXIT_CARD;
}

int escctl_status_run(int argc, char **argv, bool full, escctl_probe_fn probe_here)
{
    struct probe_facts facts[PCSC_MAX_READERS];
    struct probe_opts po = {0};
    struct escctl_card_args a;
    struct esc_conf conf;
    char err[512] = "";
    size_t n;
    int rc = escctl_parse_card_args(argc, argv, ESCCTL_STATUS_USAGE, NULL, &a);

    if (rc >= 0)
        return rc;
    if (conf_load(a.conf_path, &conf, err, sizeof err) != ESC_OK) {
        fprintf(stderr, "escctl: %s\n", err[0] ? err : "cannot read esc.conf");
        return ESCCTL_EXIT_CONF;
    }
    conf_apply_log_level(&conf); /* -v on the command line can only add */
    po.timeout_ms = a.timeout_ms
                        ? (unsigned)a.timeout_ms
                        : (conf.probe_timeout_ms > ESCCTL_MIN_TIMEOUT_MS ? conf.probe_timeout_ms
                                                                         : ESCCTL_MIN_TIMEOUT_MS);
    po.reader = a.reader ? a.reader : conf.reader;
    /* the session agent probes when there is one (its facts are the same) */
    if (a.conf_path ||
        escctl_agent_status(po.reader, po.timeout_ms, facts, PCSC_MAX_READERS, &n) != 0)
        n = probe_here(&po, facts, PCSC_MAX_READERS);
    if (a.json)
        print_json(facts, n);
    else
        print_text(facts, n, full);
    return exit_code(facts, n);
}
