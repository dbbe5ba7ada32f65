/* tls_conn: the TLS handshake of a TPS connection (tls_conn.h). */
#include "tls_conn.h"

#include "clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>

static void seterr(char *err, size_t errlen, const char *msg)
{
    if (err && errlen && !err[0])
        snprintf(err, errlen, "%s", msg);
}

static bool is_ip(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int tls_conn_expect(SSL *ssl, const char *host)
{
    X509_VERIFY_PARAM *p = SSL_get0_param(ssl);
    if (is_ip(host))
        return X509_VERIFY_PARAM_set1_ip_asc(p, host) == 1 ? 0 : -1;
    /* a name that is not an IP address, matched as libcurl does: no partial wildcards */
    X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set_tlsext_host_name(ssl, host) != 1 || SSL_set1_host(ssl, host) != 1)
        return -1;
    return 0;
}

/* Why the handshake failed, in one sentence. */
static esc_err failed(SSL *ssl, int e, char *err, size_t errlen)
{
    long v = SSL_get_verify_result(ssl);
    unsigned long why = ERR_peek_last_error();
    char msg[320];
    esc_err rc = ESC_ERR_TLS;
    if (v != X509_V_OK) {
        snprintf(msg, sizeof msg,
                 "The token server's TLS certificate is not trusted (SSL certificate problem: "
                 "%s).",
                 X509_verify_cert_error_string(v));
    } else if (e == SSL_ERROR_SSL && why) {
        const char *r = ERR_reason_error_string(why);
        snprintf(msg, sizeof msg, "The TLS handshake with the token server failed (%s).",
                 r ? r : "no reason given");
    } else {
        snprintf(msg, sizeof msg, "The connection to the token server was lost.");
        rc = ESC_ERR_NETWORK;
    }
    ERR_clear_error();
    seterr(err, errlen, msg);
    return rc;
}

/* OpenSSL's socket BIO writes with write(2): to a TPS that has closed its side, that raises
 * SIGPIPE, which kills a process that does not ignore it (the agent's modes differ, and the
 * engine does not own the process's signals). This BIO is the socket BIO with its write done
 * by send(2) with MSG_NOSIGNAL: EPIPE instead. */
static BIO_METHOD *nosig_method;
static pthread_once_t nosig_once = PTHREAD_ONCE_INIT;

static char goodbye_mark; /* the BIO's app data once the conversation is over */

/* The writes after the end of the operation (tls_conn_goodbye) go through here: a call site of
 * their own, so that the fault walk (tests/integration/fault_walk.sh) can tell them from the
 * conversation's, whose failure must end it. */
static __attribute__((noinline)) ssize_t send_goodbye(int fd, const char *in, size_t n)
{
    ssize_t r = send(fd, in, n, MSG_NOSIGNAL);
    return r < 0 ? -1 : r; /* work after the call: no tail call, the call site stays here */
}

static int nosig_write(BIO *b, const char *in, int inl)
{
    int fd = -1;
    ssize_t r;
    BIO_get_fd(b, &fd);
    BIO_clear_retry_flags(b);
    if (inl <= 0)
        return 0;
    if (BIO_get_app_data(b) == &goodbye_mark)
        r = send_goodbye(fd, in, (size_t)inl);
    else
        r = send(fd, in, (size_t)inl, MSG_NOSIGNAL);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)r;
}

static void nosig_init(void)
{
    const BIO_METHOD *sock = BIO_s_socket();
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "socket without SIGPIPE");
    if (m && BIO_meth_set_write(m, nosig_write) == 1 &&
        BIO_meth_set_read(m, BIO_meth_get_read(sock)) == 1 &&
        BIO_meth_set_puts(m, BIO_meth_get_puts(sock)) == 1 &&
        BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(sock)) == 1 &&
        BIO_meth_set_create(m, BIO_meth_get_create(sock)) == 1 &&
        BIO_meth_set_destroy(m, BIO_meth_get_destroy(sock)) == 1)
        nosig_method = m;
    else
        BIO_meth_free(m);
}

/* ssl's BIO on fd (not closed with it). 0, or -1 (no memory). */
static int attach(SSL *ssl, int fd)
{
    pthread_once(&nosig_once, nosig_init);
    BIO *b = nosig_method ? BIO_new(nosig_method) : NULL;
    if (!b)
        return -1;
    BIO_set_fd(b, fd, BIO_NOCLOSE);
    SSL_set_bio(ssl, b, b);
    return 0;
}

esc_err tls_conn_handshake(SSL *ssl, int fd, uint64_t deadline_ms, struct op_stop *stop, char *err,
                           size_t errlen)
{
    if (attach(ssl, fd) != 0) {
        ERR_clear_error();
        seterr(err, errlen, "An internal error stopped the conversation with the token server.");
        return ESC_ERR_INTERNAL;
    }
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(ssl);
        if (r == 1)
            return ESC_OK;
        int e = SSL_get_error(ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            return failed(ssl, e, err, errlen);
        struct pollfd p = {.fd = fd, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
        do {
            esc_err why = op_stop_check(stop);
            if (why != ESC_OK) {
                seterr(err, errlen, "The operation was stopped.");
                return why;
            }
            uint64_t now = esc_mono_ms();
            if (now >= deadline_ms) {
                seterr(err, errlen, "The token server did not answer in time.");
                return ESC_ERR_TPS_TIMEOUT;
            }
            int ms = deadline_ms - now < 100 ? (int)(deadline_ms - now) : 100;
            r = poll(&p, 1, ms);
        } while (r == 0 || (r < 0 && errno == EINTR));
        if (r < 0 || (p.revents & POLLNVAL)) {
            seterr(err, errlen, "The connection to the token server was lost.");
            return ESC_ERR_NETWORK;
        }
        /* POLLERR, POLLHUP: the next SSL_connect says what happened */
    }
}

void tls_conn_goodbye(SSL *ssl)
{
    BIO *b = SSL_get_wbio(ssl);
    if (b)
        (void)BIO_set_app_data(b, &goodbye_mark);
}
