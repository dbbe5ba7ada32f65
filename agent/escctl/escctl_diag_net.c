/* escctl diag: the phone-home and TPS checks (5..8 of escctl_diag.h). Nothing here talks to
 * the network before the trust check (6) has passed, and the fetch and the TLS handshake use
 * the agent's own code and rules (phone_home.c, trust.c, tps_tls_setup). */
#include "escctl_diag.h"

#include "engine/phone_home.h"
#include "escctl_ops.h"
#include "engine/tps_conv.h" /* tps_tls_setup */
#include "engine/trust.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void when(long long t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    snprintf(out, cap, "?");
    if (t > 0 && gmtime_r(&tt, &tm))
        strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm);
}

/* ---- 5. a phone-home URL, and the cached profile ---- */

bool diag_check_ph_url(struct diag *d)
{
    const char *cuid = d->facts.cuid_hex, *url, *from;
    char fetched[40], cache_note[2 * PH_URL_MAX + CONF_VALUE_MAX + 200];

    (void)ph_cache_dir(d->conf.cache_dir, d->cache_dir, sizeof d->cache_dir);
    d->have_cached = d->cache_dir[0] && ph_cache_load(d->cache_dir, cuid, &d->cached) == 0;

    url = ph_pick_url(NULL, d->facts.phone_home_url, d->conf.phone_home_url);
    from = url == d->facts.phone_home_url ? "the card's issuer info" : "phone_home_url of esc.conf";
    if (!url && d->have_cached && d->cached.source_url[0]) {
        url = d->cached.source_url;
        from = "the cached profile";
    }
    if (!url)
        return diag_add(d, "phone_home_url", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                        "No phone-home URL is known: the card carries none, esc.conf sets no "
                        "phone_home_url and no profile is cached; set phone_home_url in "
                        "esc.conf.");
    if (strlen(url) >= sizeof d->ph_url)
        return diag_add(d, "phone_home_url", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                        "The phone-home URL (from %s) is too long to be used.", from);
    snprintf(d->ph_url, sizeof d->ph_url, "%s", url);

    if (!d->cache_dir[0]) {
        snprintf(cache_note, sizeof cache_note, "no cache directory (no home directory)");
    } else if (!d->have_cached) {
        snprintf(cache_note, sizeof cache_note,
                 "no profile cached in %s (the first operation fetches one)", d->cache_dir);
    } else {
        when(d->cached.fetched_at, fetched, sizeof fetched);
        if (strcmp(d->cached.source_url, d->ph_url) != 0)
            snprintf(cache_note, sizeof cache_note,
                     "the cached profile comes from another URL (%s) and will be fetched anew",
                     d->cached.source_url);
        else
            snprintf(cache_note, sizeof cache_note, "profile cached in %s, fetched %s, TPS %s",
                     d->cache_dir, fetched,
                     d->cached.operation[0] ? d->cached.operation : "(none)");
    }
    return diag_add(d, "phone_home_url", DIAG_OK, 0, "%s (from %s); %s.", d->ph_url, from,
                    cache_note);
}

/* ---- 6. the trust policy, before any network ---- */

static bool trust_problem(struct diag *d, const char *name, const char *what, const char *err,
                          const char *fix)
{
    return diag_add(d, name, DIAG_PROBLEM, ESCCTL_EXIT_UNTRUSTED, "%s: %s Nothing was sent; %s.",
                    what, err, fix);
}

bool diag_check_trust(struct diag *d)
{
    char err[400];
    bool tps_known =
        d->have_cached && d->cached.operation[0] && strcmp(d->cached.source_url, d->ph_url) == 0;
    const char *fix = NULL;

    if (trust_check_url(&d->trust, d->ph_url, err, sizeof err, &fix) != ESC_OK)
        return trust_problem(d, "trust", "The phone-home URL is refused", err, fix);
    if (tps_known) {
        if (trust_check_url(&d->trust, d->cached.operation, err, sizeof err, &fix) != ESC_OK)
            return trust_problem(d, "trust", "The cached TPS URL is refused", err, fix);
        return diag_add(d, "trust", DIAG_OK, 0,
                        "allowed_hosts and allow_http_hosts allow the phone-home URL and the "
                        "cached TPS URL %s.",
                        d->cached.operation);
    }
    return diag_add(d, "trust", DIAG_OK, 0,
                    "allowed_hosts and allow_http_hosts allow the phone-home URL (the TPS URL "
                    "is checked once the server names it).");
}

/* ---- 7. the phone-home server ---- */

static const char *ph_hint(esc_err e)
{
    switch (e) {
    case ESC_ERR_NETWORK:
        return "check that the server is up and the network reaches it";
    case ESC_ERR_TLS:
        return "add the CA that issued the server's certificate to ca_file in esc.conf (or the "
               "system store)";
    case ESC_ERR_SERVER:
        return "check the phone-home URL (it may not lead to a phone-home service) with the "
               "server's administrator";
    default:
        return "run again with -v for details";
    }
}

bool diag_check_phone_home(struct diag *d)
{
    struct ph_opts o = {.trust = &d->trust,
                        .timeout_ms = d->net_timeout_ms,
                        .cache_dir = NULL}; /* only a look: the cache is neither read nor written */
    char err[600];
    unsigned requests = 0;
    esc_err rc =
        ph_fetch(d->ph_url, d->facts.cuid_hex, &o, &d->fetched, &requests, err, sizeof err);

    if (rc != ESC_OK) {
        /* ph_fetch says "Sentence. (curl's words)" or "Sentence.": make it one clause */
        char *p = strstr(err, ". (");
        size_t n;
        if (p)
            memmove(p, p + 1, strlen(p + 1) + 1);
        n = strlen(err);
        if (n && err[n - 1] == '.')
            err[n - 1] = '\0';
        return diag_add(d, "phone_home", DIAG_PROBLEM, escctl_exit_code(rc),
                        "Phone home to %s failed: %s; %s.", d->ph_url, err, ph_hint(rc));
    }
    d->have_fetched = true;
    if (!d->fetched.operation[0])
        return diag_add(d, "phone_home", DIAG_PROBLEM, ESCCTL_EXIT_NET,
                        "The phone-home server answered HTTP 200, but its ServiceInfo names no "
                        "token server (no <Operation>): ask its administrator.");
    return diag_add(d, "phone_home", DIAG_OK, 0,
                    "HTTP 200 and a valid ServiceInfo: issuer %s, TPS %s, token type %s.",
                    d->fetched.issuer[0] ? d->fetched.issuer : "(none)", d->fetched.operation,
                    d->fetched.token_type[0] ? d->fetched.token_type : "(none)");
}

/* ---- 8. the TPS: connect and TLS handshake only ---- */

bool diag_check_tps(struct diag *d)
{
    const char *url = d->fetched.operation;
    char err[400], ebuf[CURL_ERROR_SIZE] = "";
    bool https = strncasecmp(url, "https:", 6) == 0;
    CURL *h;
    CURLcode cc = CURLE_FAILED_INIT;
    const char *fix = NULL;

    if (trust_check_url(&d->trust, url, err, sizeof err, &fix) != ESC_OK)
        return trust_problem(d, "tps", "The TPS URL the phone-home server names is refused", err,
                             fix);
    h = curl_easy_init();
    if (!h)
        return diag_add(d, "tps", DIAG_PROBLEM, ESCCTL_EXIT_FAIL, "libcurl could not start.");
    err[0] = '\0';
    /* CONNECT_ONLY: TCP, then the TLS handshake with the peer verified as for an operation;
     * no HTTP request is sent, so the TPS starts nothing. */
    if (tps_tls_setup(h, d->trust.ca_file, err, sizeof err) < 0) {
        curl_easy_cleanup(h);
        return diag_add(d, "tps", DIAG_PROBLEM, ESCCTL_EXIT_NET, "%s Fix ca_file in esc.conf.",
                        err[0] ? err : "TLS could not be set up.");
    }
    if (curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, d->net_timeout_ms) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf) == CURLE_OK)
        cc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    if (cc == CURLE_OK)
        return diag_add(d, "tps", DIAG_OK, 0,
                        https ? "%s: TCP connection and TLS handshake made, certificate verified "
                                "(no operation started)."
                              : "%s: TCP connection made (plain http, allowed by "
                                "allow_http_hosts; no operation started).",
                        url);
    if (trust_tls_failed(cc))
        return diag_add(d, "tps", DIAG_PROBLEM, ESCCTL_EXIT_NET,
                        "The TPS's TLS certificate is not trusted (%s: %s): add the CA that "
                        "issued it to ca_file in esc.conf (or the system store).",
                        url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
    return diag_add(d, "tps", DIAG_PROBLEM, ESCCTL_EXIT_NET,
                    "The TPS cannot be reached (%s: %s): check that it is running and the "
                    "network reaches it.",
                    url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
}
