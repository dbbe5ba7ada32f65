/* tps_conv_io: libcurl connects, we move the bytes (tps_conv_io.h). */
#include "tps_conv_io.h"

#include "tps_conv.h"
#include "tls_anchors.h"
#include "trust.h"

#include <errno.h>
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

/* Over https, the session cache of the anchors this connection verifies with (read now if
 * their files changed; an unreadable file is left to the connection to report). -1: no
 * memory. */
static int take_share(struct tps_conv_io *io, const char *ca_file)
{
    struct tls_anchors *a = tls_anchors_get(ca_file);
    unsigned long gen = 0;
    bool oom = false;
    if (!a || tls_anchors_refresh(a, &gen, NULL, 0) == 0)
        io->share = tls_share_take(a, gen, &oom);
    if (oom)
        return -1;
    if (io->share)
        (void)curl_easy_setopt(io->h, CURLOPT_SHARE, tls_share_handle(io->share));
    return 0;
}

static int setup(struct tps_conv_io *io, const char *url, const char *ca_file, long connect_ms,
                 char *err, size_t errlen, esc_err *rc)
{
    CURL *h = io->h;
    if (tps_tls_setup(h, ca_file, err, errlen) < 0) {
        seterr(err, errlen, "TLS could not be set up.");
        *rc = ESC_ERR_TLS;
        return -1;
    }
    io->tls = strncasecmp(url, "https:", 6) == 0;
    if (io->tls && take_share(io, ca_file) < 0)
        return -1;
    if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*") != CURLE_OK)
        return -1;
    return 0;
}

esc_err tps_io_open(struct tps_conv_io *io, const char *url, const char *ca_file, long connect_ms,
                    struct op_stop *stop, char *err, size_t errlen)
{
    esc_err rc = ESC_ERR_INTERNAL;
    int running = 1;
    io->fd = CURL_SOCKET_BAD;
    if (!(io->h = curl_easy_init()) || !(io->m = curl_multi_init()) ||
        setup(io, url, ca_file, connect_ms, err, errlen, &rc) < 0 ||
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
    return ESC_OK;
}

long tps_io_connects(struct tps_conv_io *io)
{
    long n = 0;
    if (io->h)
        curl_easy_getinfo(io->h, CURLINFO_NUM_CONNECTS, &n);
    return n;
}

enum tps_io_rc tps_io_recv(struct tps_conv_io *io, char *buf, size_t cap, size_t *n)
{
    *n = 0;
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

enum tps_io_rc tps_io_send(struct tps_conv_io *io, const char *buf, size_t len, size_t *n)
{
    *n = 0;
    if (io->tls) {
        CURLcode cc = curl_easy_send(io->h, buf, len, n);
        if (cc == CURLE_AGAIN)
            return TPS_IO_AGAIN;
        return cc == CURLE_OK ? TPS_IO_OK : TPS_IO_ERR;
    }
    ssize_t r;
    do
        r = send(io->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r >= 0) {
        *n = (size_t)r;
        return TPS_IO_OK;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK ? TPS_IO_AGAIN : TPS_IO_ERR;
}

int tps_io_wait(struct tps_conv_io *io, bool out, int ms)
{
    struct pollfd p = {.fd = io->fd, .events = out ? POLLOUT : POLLIN};
    int r = poll(&p, 1, ms);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    /* POLLERR and POLLHUP: the next recv or send says what happened */
    return r > 0 && !(p.revents & POLLNVAL) ? 1 : r > 0 ? -1 : 0;
}

void tps_io_close(struct tps_conv_io *io)
{
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
