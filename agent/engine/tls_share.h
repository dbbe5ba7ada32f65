/* tls_share: the TLS client context and session cache shared by every TPS conversation of the
 * process (issue 12).
 *
 * OpenSSL 3.0's SSL_CTX_new costs about 1.2 M instructions, a quarter of the warm agent's CPU
 * for a PIN reset, and libcurl 7.88 builds one for every connection. Here one SSL_CTX is made
 * per reading of the trust anchors (tls_anchors.h) and kept: peer verification on, the anchors'
 * store, TLS 1.2 at least, ALPN http/1.1; tps_conv_io.c makes each connection's SSL from it on
 * the socket libcurl connected.
 *
 * The long-lived session agent also resumes its last session with the TPS (an abbreviated
 * handshake: no certificate chain to decode and verify). The server was verified when the
 * session was made; sessions are kept per peer (host and port, as libcurl keys its cache).
 * A resumed session is never verified again, so the context and its sessions belong to one
 * reading of the anchors: when the CA file changes, or another one is configured, the next
 * conversation starts a new share (the old one is freed by its last user), so a session made
 * under a CA the admin removed is never resumed. A one-shot escctl gains nothing and loses
 * nothing. */
#ifndef ESC_TLS_SHARE_H
#define ESC_TLS_SHARE_H

#include "tls_anchors.h"

#include <openssl/ssl.h>
#include <stdbool.h>

#define TLS_SHARE_PEERS   4   /* peers whose last session is kept (one TPS: one) */
#define TLS_SHARE_PEER_SZ 300 /* "host:port", a DNS name at most 253 bytes */

struct tls_share;

/* The share for a conversation trusting anchors `a` as read at generation `gen` (store: that
 * reading's store, tls_anchors_current). NULL with *oom set: no memory (the conversation
 * stops, as at any other failed allocation); NULL without it: OpenSSL refused the context. */
struct tls_share *tls_share_take(const struct tls_anchors *a, unsigned long gen, X509_STORE *store,
                                 bool *oom);
/* A new connection's SSL for `peer` ("host:port"), its last session set for resumption when
 * there is one; sessions the server sends on it are kept for the peer. NULL: no memory. */
SSL *tls_share_ssl(struct tls_share *s, const char *peer);
/* After the conversation's SSL is freed; NULL is fine. */
void tls_share_give(struct tls_share *s);

#endif
