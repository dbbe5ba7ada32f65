/* trust: URL policy for the TPS and phone-home hosts. See trust.h. */
#include "trust.h"

#include "conf.h" /* the host-list syntax and matcher shared with esc.conf */

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIX_URL  "correct the URL (on the card, in esc.conf or in the cache)"
#define FIX_HOST "if this server is yours, add its host to allowed_hosts in esc.conf"
#define FIX_HTTP "use an https URL, or add the host to allow_http_hosts in esc.conf"

struct trust_policy trust_policy_from_conf(const struct esc_conf *c)
{
    return (struct trust_policy){.allowed_hosts = c->allowed_hosts,
                                 .allow_http_hosts = c->allow_http_hosts,
                                 .ca_file = c->ca_file[0] ? c->ca_file : NULL};
}

esc_err trust_check_url(const struct trust_policy *t, const char *url, char *err, size_t errlen,
                        const char **fix)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
    esc_err rc = ESC_ERR_UNTRUSTED_HOST;
    const char *why = FIX_URL;
    unsigned long pnum = 0;

    if (err && errlen)
        err[0] = 0;
    static const struct trust_policy none = {NULL, NULL, NULL};
    if (!t)
        t = &none; /* no policy allows nothing */
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
    if (!conf_host_in_list(host, (unsigned)pnum, t->allowed_hosts)) {
        why = FIX_HOST;
        if (err)
            snprintf(err, errlen,
                     "The host %.200s is not in allowed_hosts; the agent will not contact it.",
                     host);
        goto out;
    }
    if (!https && !conf_host_in_list(host, (unsigned)pnum, t->allow_http_hosts)) {
        why = FIX_HTTP;
        if (err)
            snprintf(err, errlen,
                     "The host %.200s must be reached with https; plain http is not allowed for "
                     "it.",
                     host);
        goto out;
    }
    rc = ESC_OK;
    why = NULL;
out:
    if (fix)
        *fix = why;
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

bool trust_tls_failed(CURLcode cc)
{
    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return true;
    default:
        return false;
    }
}
