/* tls_share: the TLS session cache shared by every TPS conversation of the process.
 *
 * The long-lived session agent resumes its last session with the TPS (an abbreviated
 * handshake: no certificate chain to decode and verify, which was three quarters of the
 * agent's CPU for a PIN reset). The server was verified when the session was made; libcurl
 * keys the cache by host, port and TLS settings. A resumed session is never verified again, so
 * a cache belongs to one reading of the trust anchors (tls_anchors.h): when the CA file
 * changes, or another one is configured, the next conversation starts a new cache (the old one
 * is freed by its last user). A one-shot escctl gains nothing and loses nothing. */
#ifndef ESC_TLS_SHARE_H
#define ESC_TLS_SHARE_H

#include "tls_anchors.h"

#include <curl/curl.h>
#include <stdbool.h>

struct tls_share;

/* The session cache for a conversation trusting anchors `a` read as generation `gen`; NULL:
 * none (a full handshake), or with *oom set, no memory for it. */
struct tls_share *tls_share_take(const struct tls_anchors *a, unsigned long gen, bool *oom);
/* Its libcurl share handle (CURLOPT_SHARE). */
CURLSH *tls_share_handle(const struct tls_share *s);
/* After the handle using it is cleaned up; NULL is fine. */
void tls_share_give(struct tls_share *s);

#endif
