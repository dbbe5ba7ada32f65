/* trust: may the agent talk to this URL? (design.md "Trust")
 *
 * The card and the phone-home server are untrusted: a forged card could otherwise send the
 * user's password anywhere. A URL passes only when its host is in allowed_hosts, and its scheme
 * is https, or http for a host also in allow_http_hosts. Checked before any credential is
 * asked. */
#ifndef ESC_TRUST_H
#define ESC_TRUST_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

enum trust_rc {
    TRUST_OK = 0,
    TRUST_BAD_URL,          /* not an http(s) URL we can parse, or it carries user:password@ */
    TRUST_HOST_NOT_ALLOWED, /* host not in allowed_hosts */
    TRUST_HTTP_NOT_ALLOWED, /* http:// for a host not in allow_http_hosts */
};

/* allowed_hosts, allow_http_hosts: host lists as esc.conf takes them (common/conf.h,
 * conf_host_list_valid: names, addresses, "*.example.com", each with an optional ":port",
 * separated by spaces, tabs or commas). NULL or empty list: nothing is allowed.
 * `err` receives one sentence naming the host when the URL is refused. */
int trust_check_url(const char *url, const char *allowed_hosts, const char *allow_http_hosts,
                    char *err, size_t errlen);

/* Did libcurl fail because the server's certificate (or the TLS handshake) was not trusted?
 * One list for Phone Home, the TPS conversation and escctl diag. */
bool trust_tls_failed(CURLcode cc);

#endif
