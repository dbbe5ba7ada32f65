/* tps_conv_io: libcurl connects, OpenSSL does the TLS, we move the bytes (tps_conv_io.h). */
#include "tps_conv_io.h"

#include "clock.h"
#include "tls_anchors.h"
#include "tls_conn.h"
#include "tps_conv.h"
#include "trust.h"

#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static const char INTERNAL[] = "An internal error stopped the conversation with the token server.";
static const char LOST[] = "The connection to the token server was lost.";

static void seterr(char *err, size_t errlen, const char *msg)
{
    if (err && errlen && !err[0])
        snprintf(err, errlen, "%s", msg);
}

int tps_tls_setup(CURL *h, const char *ca_file, char *err, size_t errlen)
{
    if (curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK)
        return -1;
    if (ca_file && *ca_file) {
        FILE *f = fopen(ca_file, "re");
        if (!f) {
            if (err)
                snprintf(err, errlen, "The CA file %s cannot be read: %s.", ca_file,
                         strerror(errno));
            return -1;
        }
        fclose(f);
    }
    /* the anchors parsed once for the process (tls_anchors.h), not by libcurl per connection */
    if (tls_anchors_use(h, tls_anchors_get(ca_file)) == 0)
        return 0;
    if (!ca_file || !*ca_file)
        return 0; /* libcurl's defaults: the system bundle and directory */
    /* CAINFO alone would replace the system store; the hashed system directory stays in use
     * through CAPATH, looked up lazily (cheaper than loading the whole bundle). */
    const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
    const char *capath = (vi && vi->capath) ? vi->capath : "/etc/ssl/certs";
    if (curl_easy_setopt(h, CURLOPT_CAINFO, ca_file) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CAPATH, capath) != CURLE_OK)
        return -1;
    return 0;
}

/* A failed connect: the error, and its sentence with libcurl's words on how it failed. */
static esc_err connect_failed(CURLcode cc, char *err, size_t errlen)
{
    const char *s = LOST;
    esc_err rc = ESC_ERR_NETWORK;
    if (trust_tls_failed(cc)) {
        s = "The token server's TLS certificate is not trusted.";
        rc = ESC_ERR_TLS;
    } else if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
               cc == CURLE_COULDNT_RESOLVE_PROXY || cc == CURLE_UNSUPPORTED_PROTOCOL ||
               cc == CURLE_URL_MALFORMAT) {
        s = "The token server cannot be reached.";
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        s = "The token server did not answer in time.";
        rc = ESC_ERR_TPS_TIMEOUT;
    } else if (cc == CURLE_OUT_OF_MEMORY) {
        s = INTERNAL;
        rc = ESC_ERR_INTERNAL;
    }
    if (err && errlen && !err[0]) {
        if (s == LOST || s == INTERNAL)
            snprintf(err, errlen, "%s", s);
        else
            snprintf(err, errlen, "%s (%s)", s, curl_easy_strerror(cc));
    }
    return rc;
}

/* Over https with our TLS: the URL libcurl connects to (the same with scheme http and the port
 * spelled out: it opens the TCP connection only), the host to verify and io->peer. 1 done, 0
 * the URL is left to libcurl whole (it reports a malformed one), -1 no memory. */
static int split_url(struct tps_conv_io *io, const char *url, char **plain, char *host,
                     size_t hostsz)
{
    CURLU *u = curl_url();
    char *h = NULL, *port = NULL;
    int rc = -1;
    CURLUcode uc = CURLUE_OUT_OF_MEMORY;
    if (u && (uc = curl_url_set(u, CURLUPART_URL, url, 0)) == CURLUE_OK &&
        (uc = curl_url_get(u, CURLUPART_HOST, &h, 0)) == CURLUE_OK &&
        (uc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)) == CURLUE_OK &&
        (uc = curl_url_set(u, CURLUPART_SCHEME, "http", 0)) == CURLUE_OK &&
        (uc = curl_url_set(u, CURLUPART_PORT, port, 0)) == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_URL, plain, 0);
    if (uc == CURLUE_OK) {
        /* an IPv6 address without its brackets (and without a zone id, which names no peer) */
        const char *b = h[0] == '[' ? h + 1 : h;
        size_t n = h[0] == '[' ? strcspn(b, "]%") : strlen(b);
        int k = snprintf(io->peer, sizeof io->peer, "%s:%s", h, port);
        if (n < hostsz && k > 0 && (size_t)k < sizeof io->peer) {
            memcpy(host, b, n);
            host[n] = '\0';
            rc = 1;
        } else {
            rc = 0;
        }
    } else if (uc != CURLUE_OUT_OF_MEMORY) {
        rc = 0;
    }
    if (rc != 1) {
        curl_free(*plain);
        *plain = NULL;
    }
    curl_free(h);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* Over https: the kept TLS context of the anchors this connection verifies with (read again if
 * their files changed). 1 in use (io->share), 0 the anchors cannot be had this way (libcurl's
 * TLS then), -1 failed (err set). */
static int take_share(struct tps_conv_io *io, const char *ca_file, char *err, size_t errlen,
                      esc_err *rc)
{
    struct tls_anchors *a = tls_anchors_get(ca_file);
    X509_STORE *store = NULL;
    unsigned long gen = 0;
    bool oom = false;
    char why[TLS_SHARE_PEER_SZ + 128] = "";
    if (!a)
        return 0;
    if (tls_anchors_current(a, &store, &gen, why, sizeof why) < 0) {
        if (err && errlen && !err[0])
            snprintf(err, errlen, "The token server's TLS certificate is not trusted (%s)", why);
        *rc = ESC_ERR_TLS;
        return -1;
    }
    io->share = tls_share_take(a, gen, store, &oom);
    X509_STORE_free(store);
    if (!io->share) {
        seterr(err, errlen, oom ? INTERNAL : "TLS could not be set up.");
        *rc = oom ? ESC_ERR_INTERNAL : ESC_ERR_TLS;
        return -1;
    }
    return 1;
}

static int setup(struct tps_conv_io *io, const char *url, const char *ca_file, long connect_ms,
                 char *host, size_t hostsz, char *err, size_t errlen, esc_err *rc)
{
    CURL *h = io->h;
    char *plain = NULL;
    if (tps_tls_setup(h, ca_file, err, errlen) < 0) { /* an unreadable ca_file, said first */
        seterr(err, errlen, "TLS could not be set up.");
        *rc = ESC_ERR_TLS;
        return -1;
    }
    io->tls = strncasecmp(url, "https:", 6) == 0;
    if (io->tls) {
        int k = take_share(io, ca_file, err, errlen, rc);
        if (k < 0)
            return -1;
        if (k > 0 && (k = split_url(io, url, &plain, host, hostsz)) < 0) {
            seterr(err, errlen, INTERNAL);
            return -1;
        }
        if (k == 0) { /* libcurl's TLS, as set up above */
            tls_share_give(io->share);
            io->share = NULL;
        }
    }
    int bad = curl_easy_setopt(h, CURLOPT_URL, plain ? plain : url) != CURLE_OK;
    curl_free(plain);
    if (bad || curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*") != CURLE_OK)
        return -1;
    return 0;
}

/* Our TLS on the connected socket: the SSL (its session resumed when one is kept), the host
 * expected, the handshake within what is left of connect_ms. */
static esc_err start_tls(struct tps_conv_io *io, const char *host, uint64_t deadline,
                         struct op_stop *stop, char *err, size_t errlen)
{
    if (!(io->ssl = tls_share_ssl(io->share, io->peer)) || tls_conn_expect(io->ssl, host) < 0) {
        ERR_clear_error();
        seterr(err, errlen, INTERNAL);
        return ESC_ERR_INTERNAL;
    }
    return tls_conn_handshake(io->ssl, (int)io->fd, deadline, stop, err, errlen);
}

esc_err tps_io_open(struct tps_conv_io *io, const char *url, const char *ca_file, long connect_ms,
                    struct op_stop *stop, char *err, size_t errlen)
{
    esc_err rc = ESC_ERR_INTERNAL;
    int running = 1;
    char host[TLS_SHARE_PEER_SZ];
    /* the handshake gets what the TCP connect left of connect_ms (none given: no limit of
     * its own; `stop` still ends it) */
    uint64_t deadline = connect_ms > 0 ? esc_mono_ms() + (uint64_t)connect_ms : UINT64_MAX;
    io->fd = CURL_SOCKET_BAD;
    if (!(io->h = curl_easy_init()) || !(io->m = curl_multi_init()) ||
        setup(io, url, ca_file, connect_ms, host, sizeof host, err, errlen, &rc) < 0 ||
        curl_multi_add_handle(io->m, io->h) != CURLM_OK) {
        seterr(err, errlen, INTERNAL);
        return rc;
    }
    /* the multi interface, so that `stop` is looked at while the connection is made */
    while (running) {
        if (curl_multi_perform(io->m, &running) != CURLM_OK) {
            seterr(err, errlen, INTERNAL);
            return ESC_ERR_INTERNAL;
        }
        if (!running)
            break;
        esc_err why = op_stop_check(stop);
        if (why != ESC_OK) {
            seterr(err, errlen, "The operation was stopped.");
            return why;
        }
        if (curl_multi_poll(io->m, NULL, 0, 100, NULL) != CURLM_OK) {
            seterr(err, errlen, INTERNAL);
            return ESC_ERR_INTERNAL;
        }
    }
    CURLcode cc = CURLE_OK;
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(io->m, &left)))
        if (msg->msg == CURLMSG_DONE)
            cc = msg->data.result;
    if (cc != CURLE_OK)
        return connect_failed(cc, err, errlen);
    /* the connection stays with the handle, which stays with the multi handle (libcurl finds
     * a CONNECT_ONLY connection through either) */
    if (curl_easy_getinfo(io->h, CURLINFO_ACTIVESOCKET, &io->fd) != CURLE_OK ||
        io->fd == CURL_SOCKET_BAD) {
        seterr(err, errlen, LOST);
        return ESC_ERR_NETWORK;
    }
    return io->share ? start_tls(io, host, deadline, stop, err, errlen) : ESC_OK;
}

long tps_io_connects(struct tps_conv_io *io)
{
    long n = 0;
    if (io->h)
        curl_easy_getinfo(io->h, CURLINFO_NUM_CONNECTS, &n);
    return n;
}

/* After SSL_read_ex or SSL_write_ex returned r: AGAIN (io->want set), EOF or ERR. */
static enum tps_io_rc ssl_rc(struct tps_conv_io *io, int r)
{
    int e = SSL_get_error(io->ssl, r);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        io->want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return TPS_IO_AGAIN;
    }
    /* close_notify, or a close without it (SSL_OP_IGNORE_UNEXPECTED_EOF) */
    return e == SSL_ERROR_ZERO_RETURN ? TPS_IO_EOF : TPS_IO_ERR;
}

enum tps_io_rc tps_io_recv(struct tps_conv_io *io, char *buf, size_t cap, size_t *n)
{
    *n = 0;
    if (io->ssl) {
        /* the caller reads until AGAIN, then waits: when the last read left nothing buffered,
         * say AGAIN without a read that would only say EAGAIN (the wait's poll sees the rest) */
        if (io->drained) {
            io->drained = false;
            io->want = POLLIN;
            return TPS_IO_AGAIN;
        }
        ERR_clear_error(); /* SSL_get_error reads the queue: only this call's errors */
        int r = SSL_read_ex(io->ssl, buf, cap, n);
        if (r != 1)
            return ssl_rc(io, r);
        io->drained = !SSL_has_pending(io->ssl);
        return TPS_IO_OK;
    }
    if (io->tls) {
        CURLcode cc = curl_easy_recv(io->h, buf, cap, n);
        if (cc == CURLE_AGAIN)
            return TPS_IO_AGAIN;
        if (cc != CURLE_OK)
            return TPS_IO_ERR;
        return *n ? TPS_IO_OK : TPS_IO_EOF;
    }
    ssize_t r;
    do
        r = recv(io->fd, buf, cap, MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r > 0) {
        *n = (size_t)r;
        return TPS_IO_OK;
    }
    if (r == 0)
        return TPS_IO_EOF;
    return errno == EAGAIN || errno == EWOULDBLOCK ? TPS_IO_AGAIN : TPS_IO_ERR;
}

/* The sends after the end of the operation: a call site of their own (tps_io_goodbye). */
static __attribute__((noinline)) ssize_t send_goodbye(int fd, const char *buf, size_t len)
{
    ssize_t r = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    return r < 0 ? -1 : r; /* work after the call: no tail call, the call site stays here */
}

void tps_io_goodbye(struct tps_conv_io *io)
{
    io->goodbye = true;
    if (io->ssl)
        tls_conn_goodbye(io->ssl);
}

enum tps_io_rc tps_io_send(struct tps_conv_io *io, const char *buf, size_t len, size_t *n)
{
    *n = 0;
    if (io->ssl) { /* a closed peer: EPIPE, not SIGPIPE (tls_conn.c's BIO) */
        ERR_clear_error();
        int r = SSL_write_ex(io->ssl, buf, len, n);
        return r == 1 ? TPS_IO_OK : ssl_rc(io, r);
    }
    if (io->tls) {
        CURLcode cc = curl_easy_send(io->h, buf, len, n);
        if (cc == CURLE_AGAIN)
            return TPS_IO_AGAIN;
        return cc == CURLE_OK ? TPS_IO_OK : TPS_IO_ERR;
    }
    ssize_t r;
    do
        r = io->goodbye ? send_goodbye(io->fd, buf, len)
                        : send(io->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r >= 0) {
        *n = (size_t)r;
        return TPS_IO_OK;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK ? TPS_IO_AGAIN : TPS_IO_ERR;
}

int tps_io_wait(struct tps_conv_io *io, bool out, int ms)
{
    /* over our TLS a read may wait to write and a write to read (post-handshake messages) */
    short ev = io->ssl && io->want ? io->want : out ? POLLOUT : POLLIN;
    struct pollfd p = {.fd = io->fd, .events = ev};
    int r = poll(&p, 1, ms);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    /* POLLERR and POLLHUP: the next recv or send says what happened */
    return r > 0 && !(p.revents & POLLNVAL) ? 1 : r > 0 ? -1 : 0;
}

void tps_io_close(struct tps_conv_io *io)
{
    if (io->ssl) {
        (void)SSL_shutdown(io->ssl); /* our close_notify if the socket takes it now */
        SSL_free(io->ssl);           /* before libcurl closes the socket under it */
        ERR_clear_error();
        io->ssl = NULL;
    }
    if (io->m && io->h)
        curl_multi_remove_handle(io->m, io->h);
    if (io->h)
        curl_easy_cleanup(io->h);
    if (io->m)
        curl_multi_cleanup(io->m);
    tls_share_give(io->share);
    io->h = NULL;
    io->m = NULL;
    io->share = NULL;
    io->fd = CURL_SOCKET_BAD;
}
