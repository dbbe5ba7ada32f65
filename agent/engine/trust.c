/* trust: URL policy for the TPS and phone-home hosts. See trust.h. */
#include "trust.h"

#include "conf.h" /* the host-list syntax and matcher shared with esc.conf */

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    if (!conf_host_in_list(host, (unsigned)pnum, allowed_hosts)) {
        rc = TRUST_HOST_NOT_ALLOWED;
        if (err)
            snprintf(err, errlen,
                     "The host %.200s is not in allowed_hosts; the agent will not contact it.",
                     host);
        goto out;
    }
    if (!https && !conf_host_in_list(host, (unsigned)pnum, allow_http_hosts)) {
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
