/* phone_home: GET the phone-home URL, parse, cache (reference/tps-protocol.md §7). */
#include "phone_home.h"

#include "log.h"
#include "tps_conv.h" /* tps_ca_bundle */
#include "trust.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct body {
    char buf[PH_XML_MAX + 1];
    size_t len;
    bool too_big;
};

static size_t body_cb(char *d, size_t sz, size_t n, void *ud)
{
    struct body *b = ud;
    size_t k = sz * n;
    if (k > PH_XML_MAX - b->len) {
        b->too_big = true;
        return 0; /* abort: the answer is larger than any phone-home document */
    }
    memcpy(b->buf + b->len, d, k);
    b->len += k;
    return k;
}

#define NO_URL                                                                                     \
    "No phone-home URL is known for this card: set phone_home_url in esc.conf or use escctl "      \
    "phone-home --url."

/* The sentence and the error of a failed GET. */
static esc_err map_curl(CURLcode cc, const char **sentence)
{
    if (trust_tls_failed(cc)) {
        *sentence = "The phone-home server's TLS certificate is not trusted.";
        return ESC_ERR_TLS;
    }
    switch (cc) {
    case CURLE_WRITE_ERROR:
    case CURLE_TOO_MANY_REDIRECTS:
        *sentence = "The phone-home server refused the request.";
        return ESC_ERR_SERVER;
    default:
        *sentence = "The phone-home server cannot be reached.";
        return ESC_ERR_NETWORK;
    }
}

esc_err ph_fetch(const char *url, const char *cuid, const struct ph_opts *o, struct ph_profile *p,
                 unsigned *requests, char *err, size_t errlen)
{
    struct body *b = NULL;
    CURL *h = NULL;
    char full[PH_URL_MAX + PH_CUID_MAX + 8];
    esc_err rc = ESC_ERR_INTERNAL;
    int n;
    long code = 0;

    if (err && errlen)
        err[0] = '\0';
    if (!url || !*url || strlen(url) >= PH_URL_MAX) {
        esc_seterr(err, errlen, "%s", NO_URL);
        return ESC_ERR_CONF;
    }
    if (!ph_cuid_ok(cuid)) {
        esc_seterr(err, errlen, "The card's CUID could not be read.");
        return ESC_ERR_INTERNAL;
    }
    if (trust_check_url(o->trust, url, err, errlen, NULL) != ESC_OK)
        return ESC_ERR_UNTRUSTED_HOST;
    n = snprintf(full, sizeof full, "%s%ccuid=%s", url, strchr(url, '?') ? '&' : '?', cuid);
    if (n < 0 || (size_t)n >= sizeof full)
        goto out;
    b = calloc(1, sizeof *b);
    h = curl_easy_init();
    if (!b || !h)
        goto out;
    if (tps_tls_setup(h, o->trust ? o->trust->ca_file : NULL, err, errlen) < 0) {
        rc = ESC_ERR_TLS;
        goto out;
    }
    long to = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    if (curl_easy_setopt(h, CURLOPT_URL, full) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, b) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, to) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_USERAGENT, "pam_esc") != CURLE_OK)
        goto out;
    if (requests)
        (*requests)++;
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        const char *sentence;
        rc = map_curl(cc, &sentence);
        /* one sentence that names the server and what it did (issue 11's fault matrix) */
        if (b->too_big) {
            rc = ESC_ERR_SERVER;
            esc_seterr(err, errlen, "The phone-home answer is too large (over %d bytes).",
                       PH_XML_MAX);
        } else if (cc == CURLE_OPERATION_TIMEDOUT) {
            esc_seterr(err, errlen, "The phone-home server did not answer within %ld second%s.",
                       (to + 999) / 1000, to > 1000 ? "s" : "");
        } else {
            esc_seterr(err, errlen, "%s (%s)", sentence, curl_easy_strerror(cc));
        }
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        rc = ESC_ERR_SERVER;
        if (err)
            snprintf(err, errlen, "The phone-home server answered with HTTP status %ld.", code);
        goto out;
    }
    memset(p, 0, sizeof *p);
    if (ph_xml_parse(b->buf, b->len, p, err, errlen) < 0) {
        rc = ESC_ERR_SERVER;
        goto out;
    }
    snprintf(p->cuid, sizeof p->cuid, "%s", cuid);
    snprintf(p->source_url, sizeof p->source_url, "%s", url);
    p->fetched_at = (long long)time(NULL);
    rc = ESC_OK;
out:
    if (h)
        curl_easy_cleanup(h);
    free(b);
    if (rc != ESC_OK && err && errlen && !err[0])
        esc_seterr(err, errlen, "Phone home failed because of an internal error.");
    return rc;
}

esc_err ph_get(const char *url, const char *cuid, const struct ph_opts *o, struct ph_profile *p,
               bool *from_cache, unsigned *requests, char *err, size_t errlen)
{
    esc_err rc;
    if (from_cache)
        *from_cache = false;
    if (o->cache_dir && !o->refresh && ph_cache_lookup(o->cache_dir, url, cuid, p) == 0) {
        if (from_cache)
            *from_cache = true;
        return ESC_OK;
    }
    rc = ph_fetch(url, cuid, o, p, requests, err, errlen);
    if (rc != ESC_OK)
        return rc;
    /* The cache only saves a request next time: one that cannot be written (a read-only or
     * foreign cache_dir, a full disk) must not stop the operation that needs this profile. */
    char cerr[PH_URL_MAX];
    if (o->cache_dir && ph_cache_store(o->cache_dir, p, cerr, sizeof cerr) < 0)
        log_warn("%s The profile is used without caching it.", cerr);
    return ESC_OK;
}
