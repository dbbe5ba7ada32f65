/* tls_conn: the TLS handshake of a TPS connection, with OpenSSL on the socket libcurl
 * connected (tps_conv_io.c), from the process's kept context (tls_share.h).
 *
 * The peer's certificate chain is verified against the context's trust anchors, and its name
 * against the host of the URL (a DNS name, or an IP address matched against the certificate's
 * IP addresses), as libcurl does with CURLOPT_SSL_VERIFYPEER and VERIFYHOST 2; the name goes
 * in SNI unless it is an IP address. The SSL writes with send(MSG_NOSIGNAL): a TPS that has
 * closed its side gives EPIPE, not a SIGPIPE that would end the process. */
#ifndef ESC_TLS_CONN_H
#define ESC_TLS_CONN_H

#include "esc_err.h"
#include "op_stop.h"

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

/* Expect `host` (no brackets around an IPv6 address) on ssl: SNI and the name check. -1: it
 * could not be set (no memory, or an IP address OpenSSL cannot parse). */
int tls_conn_expect(SSL *ssl, const char *host);

/* Run the handshake on fd (non-blocking) until done, the monotonic deadline_ms (esc_mono_ms)
 * or `stop`, looked at least every 100 ms. ESC_OK, or the error with its sentence in err:
 * ESC_ERR_TLS (certificate not trusted, handshake refused), ESC_ERR_NETWORK (connection lost),
 * ESC_ERR_TPS_TIMEOUT, or stop's reason. */
esc_err tls_conn_handshake(SSL *ssl, int fd, uint64_t deadline_ms, struct op_stop *stop, char *err,
                           size_t errlen);

/* The operation is over: what ssl writes from now on (the upload's last chunk, close_notify)
 * is a goodbye whose failure changes nothing. */
void tls_conn_goodbye(SSL *ssl);

#endif
