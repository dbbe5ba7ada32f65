/* trust: may the agent talk to this URL? (design.md "Trust")
 *
 * The card and the phone-home server are untrusted: a forged card could otherwise send the
 * user's password anywhere. A URL passes only when its host is in allowed_hosts, and its scheme
 * is https, or http for a host also in allow_http_hosts. Checked before any credential is
 * asked. */
#ifndef ESC_TRUST_H
#define ESC_TRUST_H

#include "conf.h"
#include "esc_err.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

/* The trust policy: esc.conf's allowed_hosts, allow_http_hosts and ca_file, read one way
 * wherever the agent goes out (Phone Home, the TPS, escctl diag's checks and its CA import).
 * The host lists are as esc.conf takes them (common/conf.h, conf_host_list_valid: names,
 * addresses, "*.example.com", each with an optional ":port", separated by spaces, tabs or
 * commas); NULL or empty: nothing is allowed. The strings belong to the esc_conf it was built
 * from. */
struct trust_policy {
    const char *allowed_hosts;    /* the hosts the agent may contact */
    const char *allow_http_hosts; /* of those, the ones it may reach with plain http */
    const char *ca_file;          /* trust anchors added to the system store, or NULL */
};

/* The policy of a loaded esc.conf, built once by the engine's entry points (agent_op.h) and
 * escctl diag, and handed down. */
struct trust_policy trust_policy_from_conf(const struct esc_conf *c);

/* May the agent talk to `url` under policy `t` (NULL: nothing is allowed)? ESC_OK, or
 * ESC_ERR_UNTRUSTED_HOST with one sentence in `err` naming the host and the rule (not an http(s)
 * URL, a user name in it, the host not in allowed_hosts, plain http for a host not in
 * allow_http_hosts) and, in *fix (when fix is not NULL), what an administrator does about it ("add
 * its host to allowed_hosts in esc.conf"). */
esc_err trust_check_url(const struct trust_policy *t, const char *url, char *err, size_t errlen,
                        const char **fix);

/* Did libcurl fail because the server's certificate (or the TLS handshake) was not trusted?
 * One list for Phone Home, the TPS conversation and escctl diag. */
bool trust_tls_failed(CURLcode cc);

#endif
