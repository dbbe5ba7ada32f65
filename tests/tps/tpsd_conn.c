/* tpsd_conn: plain or TLS connection I/O with deadlines. */
#include "tpsd_conn.h"
#include "tpsd_stats.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tpsd_log.h"

long long tpsd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` on fd until the deadline: 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, long long deadline_ms)
{
    for (;;) {
        long long left = deadline_ms - tpsd_now_ms();
        struct pollfd p = {.fd = fd, .events = events};
        int rc;
        if (left <= 0)
            return 0;
        rc = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

int tpsd_conn_init(struct tpsd_conn *c, int fd, unsigned long id, SSL_CTX *ctx, int timeout_ms)
{
    int one = 1;
    long long deadline = tpsd_now_ms() + timeout_ms;
    c->fd = fd;
    c->ssl = NULL;
    c->id = id;
    c->closed = 0;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    /* Each chunk goes out in one send; Nagle would delay the lock-step answers by up to 40 ms
     * (libcurl-duplex.md §1). */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (!ctx)
        return 0;
    c->ssl = SSL_new(ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1)
        goto fail;
    for (;;) {
        int rc = SSL_accept(c->ssl), err, w;
        if (rc == 1) {
            if (SSL_session_reused(c->ssl))
                tpsd_stats_add(ST_TLS_RESUMED, 1);
            return 0;
        }
        err = SSL_get_error(c->ssl, rc);
        if (err == SSL_ERROR_WANT_READ)
            w = wait_fd(fd, POLLIN, deadline);
        else if (err == SSL_ERROR_WANT_WRITE)
            w = wait_fd(fd, POLLOUT, deadline);
        else
            w = -1;
        if (w <= 0) {
            unsigned long e = ERR_get_error();
            tpsd_log(id, "TLS handshake failed: %s",
                     e ? ERR_reason_error_string(e) : "timeout or closed");
            goto fail;
        }
    }
fail:
    ERR_clear_error();
    if (c->ssl)
        SSL_free(c->ssl);
    c->ssl = NULL;
    c->closed = 1;
    return -1;
}

ssize_t tpsd_conn_read(struct tpsd_conn *c, void *buf, size_t cap, long long deadline_ms)
{
    if (c->closed)
        return -1;
    for (;;) {
        int w;
        if (c->ssl) {
            int n = SSL_read(c->ssl, buf, cap > 65536 ? 65536 : (int)cap), err;
            if (n > 0)
                return n;
            err = SSL_get_error(c->ssl, n);
            if (err == SSL_ERROR_ZERO_RETURN)
                return 0;
            if (err == SSL_ERROR_WANT_READ)
                w = wait_fd(c->fd, POLLIN, deadline_ms);
            else if (err == SSL_ERROR_WANT_WRITE)
                w = wait_fd(c->fd, POLLOUT, deadline_ms);
            else {
                ERR_clear_error();
                /* A peer that just closes the TCP connection without close_notify. */
                return err == SSL_ERROR_SYSCALL && n == 0 ? 0 : -1;
            }
        } else {
            ssize_t n = recv(c->fd, buf, cap, 0);
            if (n >= 0)
                return n;
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            w = wait_fd(c->fd, POLLIN, deadline_ms);
        }
        if (w == 0)
            return -2;
        if (w < 0)
            return -1;
    }
}

int tpsd_conn_write(struct tpsd_conn *c, const void *buf, size_t len, long long deadline_ms)
{
    const unsigned char *p = buf;
    if (c->closed)
        return -1;
    while (len > 0) {
        int w;
        if (c->ssl) {
            int n = SSL_write(c->ssl, p, len > 16384 ? 16384 : (int)len), err;
            if (n > 0) {
                p += n;
                len -= (size_t)n;
                continue;
            }
            err = SSL_get_error(c->ssl, n);
            if (err == SSL_ERROR_WANT_READ)
                w = wait_fd(c->fd, POLLIN, deadline_ms);
            else if (err == SSL_ERROR_WANT_WRITE)
                w = wait_fd(c->fd, POLLOUT, deadline_ms);
            else
                w = -1;
        } else {
            ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
            if (n > 0) {
                p += n;
                len -= (size_t)n;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                w = -1;
            else
                w = wait_fd(c->fd, POLLOUT, deadline_ms);
        }
        if (w <= 0) {
            ERR_clear_error();
            c->closed = 1;
            return -1;
        }
    }
    return 0;
}

void tpsd_conn_close(struct tpsd_conn *c)
{
    if (c->fd < 0)
        return;
    if (c->ssl) {
        if (!c->closed)
            SSL_shutdown(c->ssl); /* best effort; the socket is non-blocking */
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    ERR_clear_error();
    shutdown(c->fd, SHUT_RDWR);
    close(c->fd);
    c->fd = -1;
    c->closed = 1;
}

void tpsd_conn_abort(struct tpsd_conn *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    if (c->fd < 0)
        return;
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    ERR_clear_error();
    close(c->fd);
    c->fd = -1;
    c->closed = 1;
}
