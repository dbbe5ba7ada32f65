/* tps_conv_io: the byte stream under the TPS conversation (tps_conv.c). libcurl opens the TCP
 * connection (CONNECT_ONLY: its resolver and connect timeout). Over https, OpenSSL then runs
 * the TLS handshake on that socket from the process's kept context and session cache
 * (tls_share.h, tls_conn.h: the peer and its host name verified against the trust anchors
 * parsed once, tls_anchors.h); only when those anchors cannot be had this way does libcurl do
 * the TLS too (tps_tls_setup), as before. Bytes go straight on the socket (http), through
 * SSL_read/SSL_write, or through curl_easy_recv/curl_easy_send; waiting is a poll on the
 * socket. */
#ifndef ESC_TPS_CONV_IO_H
#define ESC_TPS_CONV_IO_H

#include "esc_err.h"
#include "op_stop.h"
#include "tls_share.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

struct tps_conv_io {
    CURL *h;
    CURLM *m;
    curl_socket_t fd;
    bool tls;                     /* bytes go through a TLS layer (ssl, or libcurl's) */
    SSL *ssl;                     /* our TLS on the socket, or NULL */
    short want;                   /* over ssl: what the last TPS_IO_AGAIN waits for */
    bool drained;                 /* over ssl: nothing left in OpenSSL's buffers */
    bool goodbye;                 /* the operation is over (tps_io_goodbye) */
    struct tls_share *share;      /* the TLS context and session cache in use, or NULL */
    char peer[TLS_SHARE_PEER_SZ]; /* "host:port": the sessions' key (ssl's ex_data) */
};

enum tps_io_rc {
    TPS_IO_OK = 0, /* bytes moved */
    TPS_IO_AGAIN,  /* nothing now: wait for the socket */
    TPS_IO_EOF,    /* the peer closed its side (recv) */
    TPS_IO_ERR,    /* the connection failed */
};

/* Connect to url with its TLS set up (ca_file: tps_tls_setup), watching `stop` at least every
 * 100 ms and giving up after connect_ms. ESC_OK, or the error with one sentence in err. */
esc_err tps_io_open(struct tps_conv_io *io, const char *url, const char *ca_file, long connect_ms,
                    struct op_stop *stop, char *err, size_t errlen);
/* TCP connections opened (CURLINFO_NUM_CONNECTS). */
long tps_io_connects(struct tps_conv_io *io);
/* Read up to cap bytes into buf (*n). Over TLS, call again until TPS_IO_AGAIN before waiting:
 * the TLS layer may hold bytes the socket no longer shows. */
enum tps_io_rc tps_io_recv(struct tps_conv_io *io, char *buf, size_t cap, size_t *n);
/* Write up to len bytes (*n of them went). */
enum tps_io_rc tps_io_send(struct tps_conv_io *io, const char *buf, size_t len, size_t *n);
/* The operation is over: what is sent from now on (the upload's last chunk, TLS's
 * close_notify) is a goodbye whose failure changes nothing (its own call site: fault_walk). */
void tps_io_goodbye(struct tps_conv_io *io);
/* Wait up to ms for the socket to be readable (out: writable). 1 ready, 0 not yet, -1 error. */
int tps_io_wait(struct tps_conv_io *io, bool out, int ms);
/* Close the connection and free everything (idempotent on a zeroed io). */
void tps_io_close(struct tps_conv_io *io);

#endif
