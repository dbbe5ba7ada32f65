/* trust: URL policy for the TPS and phone-home hosts. See trust.h. */
#include "trust.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SEP " \t,\r\n"

static bool entry_matches(const char *e, size_t elen, const char *host, unsigned port)
{
    size_t hlen = strlen(host);
    const char *colon = NULL;
    unsigned eport = 0;
    /* split ":port" off, minding "[v6]:port" */
    const char *close = memchr(e, ']', elen);
    const char *from = close ? close : e;
    colon = memchr(from, ':', elen - (size_t)(from - e));
    if (colon && (e[0] != '[' || close)) {
        char num[8];
        size_t nl = elen - (size_t)(colon - e) - 1;
        char *end;
        if (nl == 0 || nl >= sizeof num)
            return false;
        memcpy(num, colon + 1, nl);
        num[nl] = 0;
        unsigned long v = strtoul(num, &end, 10);
        if (*end || v == 0 || v > 65535)
            return false;
        eport = (unsigned)v;
        elen = (size_t)(colon - e);
    }
    if (eport && eport != port)
        return false;
    if (elen > 2 && e[0] == '*' && e[1] == '.') {
        size_t sl = elen - 1; /* ".example.com" */
        return hlen > sl && strncasecmp(host + hlen - sl, e + 1, sl) == 0;
    }
    return elen == hlen && strncasecmp(host, e, elen) == 0;
}

int trust_host_in_list(const char *host, unsigned port, const char *list)
{
    if (!host || !*host || !list)
        return 0;
    for (const char *p = list; *p;) {
        p += strspn(p, SEP);
        size_t n = strcspn(p, SEP);
        if (n && entry_matches(p, n, host, port))
            return 1;
        p += n;
    }
    return 0;
}

int trust_check_url(const char *url, const char *allowed_hosts, const char *allow_http_hosts,
                    char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
    int rc = TRUST_BAD_URL;
    unsigned long pnum = 0;

    if (err && errlen)
        err[0] = 0;
    if (!u || !url || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        if (err)
            snprintf(err, errlen, "The address \"%.200s\" is not a valid http or https URL.",
                     url ? url : "");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK && user) {
        if (err)
            snprintf(err, errlen, "The address for %.200s must not carry a user name.", host);
        goto out;
    }
    pnum = strtoul(port, NULL, 10);
    bool https = strcasecmp(scheme, "https") == 0;
    if (!https && strcasecmp(scheme, "http") != 0) {
        if (err)
            snprintf(err, errlen, "The address \"%.200s\" is not a valid http or https URL.", url);
        goto out;
    }
    if (!trust_host_in_list(host, (unsigned)pnum, allowed_hosts)) {
        rc = TRUST_HOST_NOT_ALLOWED;
        if (err)
            snprintf(err, errlen,
                     "The host %.200s is not in allowed_hosts; the agent will not contact it.",
                     host);
        goto out;
    }
    if (!https && !trust_host_in_list(host, (unsigned)pnum, allow_http_hosts)) {
        rc = TRUST_HTTP_NOT_ALLOWED;
        if (err)
            snprintf(err, errlen,
                     "The host %.200s must be reached with https; plain http is not allowed for "
                     "it.",
                     host);
        goto out;
    }
    rc = TRUST_OK;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}
