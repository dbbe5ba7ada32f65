/* tpsd_conn: one accepted connection, plain TCP or TLS, read and written with deadlines.
 * The socket is non-blocking; every wait is a poll() bounded by the caller's deadline, so a
 * stalled or half-open peer never hangs a connection thread. */
#ifndef TPSD_CONN_H
#define TPSD_CONN_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

struct tpsd_conn {
    int fd;
    SSL *ssl;         /* NULL for plain HTTP */
    unsigned long id; /* connection number (log, stats) */
    int closed;       /* the peer closed or an I/O error happened */
};

/* Milliseconds on a monotonic clock. */
long long tpsd_now_ms(void);

/* Takes ownership of `fd`: makes it non-blocking and sets TCP_NODELAY. With `ctx` non-NULL
 * runs the TLS handshake (bounded by `timeout_ms`). 0 on success, -1 (logged) otherwise. */
int tpsd_conn_init(struct tpsd_conn *c, int fd, unsigned long id, SSL_CTX *ctx, int timeout_ms);

/* Reads at most `cap` bytes, waiting until `deadline_ms` (tpsd_now_ms() scale). Returns the
 * count, 0 on end of stream, -1 on error, -2 on timeout. */
ssize_t tpsd_conn_read(struct tpsd_conn *c, void *buf, size_t cap, long long deadline_ms);

/* Writes all `len` bytes, in one send()/SSL_write() unless the socket buffer is full.
 * 0 on success, -1 on error or timeout. */
int tpsd_conn_write(struct tpsd_conn *c, const void *buf, size_t len, long long deadline_ms);

/* Orderly close: TLS close_notify, shutdown, close. Safe to call twice. */
void tpsd_conn_close(struct tpsd_conn *c);
/* Abortive close (the "drop" fault): no close_notify, RST if data is pending. */
void tpsd_conn_abort(struct tpsd_conn *c);

#endif
