/* tps_conv_io: the byte stream under the TPS conversation (tps_conv.c). libcurl opens it: the
 * TCP connection, and over https the TLS handshake with the peer and its host name verified
 * (tps_tls_setup, the trust anchors parsed once, the shared session cache: tls_share.h), in
 * CONNECT_ONLY mode; then bytes go straight on the socket (http) or through curl_easy_send and
 * curl_easy_recv (https), and waiting is a poll on the socket. */
#ifndef ESC_TPS_CONV_IO_H
#define ESC_TPS_CONV_IO_H

#include "esc_err.h"
#include "op_stop.h"
#include "tls_share.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

struct tps_conv_io {
    CURL *h;
    CURLM *m;
    curl_socket_t fd;
    bool tls;                /* bytes go through libcurl's TLS */
    struct tls_share *share; /* the TLS session cache in use, or NULL */
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
/* Wait up to ms for the socket to be readable (out: writable). 1 ready, 0 not yet, -1 error. */
int tps_io_wait(struct tps_conv_io *io, bool out, int ms);
/* Close the connection and free everything (idempotent on a zeroed io). */
void tps_io_close(struct tps_conv_io *io);

#endif
