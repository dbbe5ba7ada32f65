/* tps_conv: the TPS conversation, one chunked POST in strict lock-step over a connection
 * libcurl opened (tps_conv_io.h); the request head and chunks are written here and the answer
 * read with http_resp.h. libcurl's multi loop with a paused upload (libcurl-duplex.md §4) was
 * two thirds of the instructions per relayed APDU, and hung on a clean close by the TPS. */
#include "tps_conv.h"

#include "http_resp.h"
#include "tps_conv_io.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TX_CAP      (3 * TPS_FRAME_MAX) /* request head, answers as chunks; flushed when full */
#define RX_CAP      16384               /* one TLS record's plaintext at most */
#define CHUNK_OVER  12                  /* "<hex>\r\n" and "\r\n" around a message */
#define END_WAIT_MS 1000                /* after END_OP: for the end of the answer, at most */

#define INTERNAL "An internal error stopped the conversation with the token server."
static const char LOST[] = "The connection to the token server was lost.";

struct conv {
    struct tps_conv_io io;
    tps_conv_handler handler;
    void *ctx;
    unsigned long max_msgs;
    long msg_timeout_ms;
    struct op_stop *stop;
    struct tps_conv_stats *st;
    char *err;
    size_t errlen;
    bool failed; /* a failure decided: rc */
    esc_err rc;
    bool done;     /* the handler saw the end of the conversation (END_OP) */
    double t_wait; /* when our last message went out: the per-message deadline runs from it */
    bool t_fresh;  /* t_wait was read when the last send ended, and no message handled since */
    size_t txlen;
    /* The buffers (80 KB) come last: neither zeroed when allocated nor wiped whole at the
     * end; what they held is wiped where it was written (conv_wipe, on_message, flush, the
     * receive loop). */
    struct http_resp resp;
    struct tps_framer fr;
    struct tps_msg msg;
    struct tps_enc reply;
    char rx[RX_CAP];
    char tx[TX_CAP];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The first failure decides; after END_OP nothing is one (the operation is over). */
static void set_err(struct conv *c, esc_err rc, const char *msg)
{
    if (c->done)
        return;
    if (!c->failed) {
        c->failed = true;
        c->rc = rc;
    }
    if (c->err && c->errlen && !c->err[0])
        snprintf(c->err, c->errlen, "%s", msg);
}

static void set_http_err(struct conv *c, int code)
{
    char msg[96];
    snprintf(msg, sizeof msg, "The token server answered with HTTP status %d.", code);
    set_err(c, ESC_ERR_SERVER, msg);
}

/* Wait for the socket (out: to write) within the per-message deadline, looking at op_stop at
 * least every 100 ms. fresh: c->t_wait was read just before, nothing done since (a send's
 * end): the first round needs no clock read of its own. 0 ready; -1 failed (c->rc, or after
 * END_OP the wait is over). */
static int wait_io(struct conv *c, bool out, long limit_ms, bool fresh)
{
    c->t_fresh = false;
    for (;; fresh = false) {
        esc_err why = op_stop_check(c->stop);
        if (why != ESC_OK) {
            set_err(c, why, "The operation was stopped.");
            return -1;
        }
        int ms = 100;
        if (limit_ms > 0) {
            double left = (double)limit_ms - (fresh ? 0.0 : (now_s() - c->t_wait) * 1000.0);
            if (left <= 0) {
                set_err(c, ESC_ERR_TPS_TIMEOUT, "The token server did not answer in time.");
                return -1;
            }
            if (left < ms)
                ms = (int)left + 1;
        }
        int r = tps_io_wait(&c->io, out, ms);
        if (r < 0) {
            set_err(c, ESC_ERR_NETWORK, LOST);
            return -1;
        }
        if (r > 0)
            return 0;
    }
}

/* After a failed send: the head of the TPS's answer if it already came (a TPS that refused
 * the request says why with an HTTP status); its messages are not read. */
static void drain_head(struct conv *c)
{
    size_t n;
    while (!c->resp.head_done && tps_io_recv(&c->io, c->rx, sizeof c->rx, &n) == TPS_IO_OK) {
        long k = http_resp_head(&c->resp, c->rx, n);
        explicit_bzero(c->rx, n);
        if (k < 0)
            return;
    }
    if (c->resp.head_done && c->resp.status != 200)
        set_http_err(c, c->resp.status);
}

/* Send buf[0..len) whole; the per-message deadline then runs from now. 0, or -1 failed. */
static int send_buf(struct conv *c, const char *buf, size_t len)
{
    size_t off = 0;
    int rc = 0;
    bool waited = false;
    while (off < len) {
        size_t n;
        enum tps_io_rc r = tps_io_send(&c->io, buf + off, len - off, &n);
        if (r == TPS_IO_OK) {
            off += n;
        } else if (r == TPS_IO_AGAIN) {
            bool first = !waited;
            if (first) { /* the deadline runs from the first wait (a clock read saved) */
                c->t_wait = now_s();
                waited = true;
            }
            if (wait_io(c, true, c->msg_timeout_ms, first) < 0) {
                rc = -1;
                break;
            }
        } else {
            drain_head(c);
            set_err(c, ESC_ERR_NETWORK, LOST);
            rc = -1;
            break;
        }
    }
    c->t_wait = now_s();
    c->t_fresh = true;
    return rc;
}

/* Send what is queued; the queue is wiped once sent (it may hold the password, the PIN). */
static int flush(struct conv *c)
{
    int rc = send_buf(c, c->tx, c->txlen);
    explicit_bzero(c->tx, c->txlen);
    c->txlen = 0;
    return rc;
}

/* Queue one chunk "<hex>\r\n<data>\r\n" (flushing first when the queue is full). */
static int queue_chunk(struct conv *c, const char *data, size_t n)
{
    if (n + CHUNK_OVER > sizeof c->tx - c->txlen && flush(c) < 0)
        return -1;
    if (n + CHUNK_OVER > sizeof c->tx - c->txlen)
        return -1;
    /* the size in hex (n <= TPS_FRAME_MAX: 4 digits at most), without snprintf's cost */
    static const char hex[] = "0123456789abcdef";
    char rev[8];
    size_t d = 0, v = n;
    do
        rev[d++] = hex[v & 15];
    while ((v >>= 4) != 0 && d < sizeof rev);
    while (d)
        c->tx[c->txlen++] = rev[--d];
    c->tx[c->txlen++] = '\r';
    c->tx[c->txlen++] = '\n';
    memcpy(c->tx + c->txlen, data, n);
    c->txlen += n;
    memcpy(c->tx + c->txlen, "\r\n", 2);
    c->txlen += 2;
    return 0;
}

static int queue_frame(struct conv *c, struct tps_enc *e)
{
    size_t n;
    const char *s = tps_enc_frame(e, &n);
    if (!s || queue_chunk(c, s, n) < 0)
        return -1;
    c->st->msgs_out++;
    c->st->bytes_out += n;
    return 0;
}

/* An answer: sent as a chunk where it was encoded, its size line and CRLF written in the
 * room the encoder keeps around the message (TPS_ENC_HEAD, TPS_ENC_TAIL): no copy into the
 * queue, no wipe of it. Behind something queued, it is queued too (the order is kept). */
static int send_frame(struct conv *c, struct tps_enc *e)
{
    static const char hex[] = "0123456789abcdef";
    size_t n;
    const char *s = tps_enc_frame(e, &n);
    if (!s || c->txlen)
        return s ? queue_frame(c, e) : -1;
    char *start = (char *)s, *end = start + n; /* n <= TPS_FRAME_MAX: 4 hex digits at most */
    *--start = '\n';
    *--start = '\r';
    size_t v = n;
    do
        *--start = hex[v & 15];
    while ((v >>= 4) != 0);
    end[0] = '\r';
    end[1] = '\n';
    c->st->msgs_out++;
    c->st->bytes_out += n;
    return send_buf(c, start, (size_t)(end + 2 - start));
}

/* "POST <path> HTTP/1.1" and the headers, as ESC sends them (tps-protocol.md §1.2); the
 * request body is chunked, without Expect (the TPS answers 200 at once). */
static int queue_head(struct conv *c, const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    int rc = -1;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        (void)curl_url_get(u, CURLUPART_PORT, &port, 0);   /* absent: the scheme's */
        (void)curl_url_get(u, CURLUPART_QUERY, &query, 0); /* absent: none */
        int n = snprintf(c->tx, sizeof c->tx,
                         "POST %s%s%s HTTP/1.1\r\nHost: %s%s%s\r\nUser-Agent: pam_esc\r\n"
                         "Accept: */*\r\nTransfer-Encoding: chunked\r\n"
                         "Content-Type: text/plain\r\n\r\n",
                         path, query ? "?" : "", query ? query : "", host, port ? ":" : "",
                         port ? port : "");
        if (n > 0 && (size_t)n < sizeof c->tx / 2) {
            c->txlen = (size_t)n;
            rc = 0;
        }
    }
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return rc;
}

static int handle_message(struct conv *c, const char *payload, size_t len)
{
    if (c->done)
        return 0; /* after END_OP: nothing more is read as a message */
    c->st->msgs_in++;
    c->st->bytes_in += len + 4 + (len >= 1000) + (len >= 100) + (len >= 10); /* + "s=N&" */
    if (c->max_msgs && c->st->msgs_in > c->max_msgs) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 "The token server sent more than %lu messages; the operation "
                 "was stopped.",
                 c->max_msgs);
        set_err(c, ESC_ERR_PROTOCOL, msg);
        return -1;
    }
    if (tps_msg_decode(&c->msg, payload, len) < 0) {
        set_err(c, ESC_ERR_PROTOCOL, "The token server sent a malformed message.");
        return -1;
    }
    /* the reply is empty here: initialised, then wiped after every message */
    c->t_fresh = false; /* the handler may take its time (the card, a question) */
    enum tps_conv_next next = c->handler(c->ctx, &c->msg, &c->reply);
    tps_msg_wipe(&c->msg);
    int queued = next == TPS_CONV_REPLY ? send_frame(c, &c->reply) : 0;
    tps_enc_wipe(&c->reply); /* whatever the handler wrote, answer or not */
    switch (next) {
    case TPS_CONV_REPLY:
        if (queued < 0) {
            if (!c->failed)
                set_err(c, ESC_ERR_INTERNAL, "An answer to the token server could not be built.");
            return -1;
        }
        return 0;
    case TPS_CONV_DONE:
        /* the end of our upload, "0\r\n\r\n" (HTTP/1.1 wants it; the TPS does not wait for
         * it, so failing to send it is no failure) */
        tps_io_goodbye(&c->io);
        (void)queue_chunk(c, "", 0);
        c->done = true;
        return 0;
    default:
        set_err(c, ESC_ERR_CANCELLED, "The operation was abandoned.");
        return -1;
    }
}

/* One message from the framer; its payload wiped once handled: in the framer's buffer here,
 * else it lies in c->rx (a whole message received at once), which the receive loop wipes. */
static int on_message(void *ud, const char *payload, size_t len)
{
    struct conv *c = ud;
    int rc = handle_message(c, payload, len);
    if (payload == c->fr.buf)
        explicit_bzero(c->fr.buf, len < sizeof c->fr.buf ? len + 1 : sizeof c->fr.buf);
    return rc;
}

/* Body bytes, re-framed by s=<len> whatever the chunking. */
static int on_body(void *ud, const char *data, size_t len)
{
    struct conv *c = ud;
    if (c->done)
        return 0;
    if (tps_framer_push(&c->fr, data, len, on_message, c) != 0) {
        set_err(c, ESC_ERR_PROTOCOL, "The token server sent a badly framed message.");
        return 1;
    }
    return 0;
}

/* Bytes from the TPS: the answer's head, then its body. */
static void feed(struct conv *c, const char *buf, size_t n)
{
    if (!c->resp.head_done) {
        long k = http_resp_head(&c->resp, buf, n);
        if (k < 0) {
            set_err(c, ESC_ERR_PROTOCOL, "The token server sent a malformed HTTP answer.");
            return;
        }
        if (!c->resp.head_done)
            return;
        if (c->resp.status != 200) {
            set_http_err(c, c->resp.status);
            return;
        }
        buf += k;
        n -= (size_t)k;
    }
    if (http_resp_body(&c->resp, buf, n, on_body, c) == -1)
        set_err(c, ESC_ERR_PROTOCOL, "The token server sent a badly framed message.");
}

/* Everything the buffers may still hold: the queue (the password, the PIN), a message half
 * received, the last decoded message and answer (wiped after each message already). */
static void conv_wipe(struct conv *c)
{
    explicit_bzero(c->tx, c->txlen <= sizeof c->tx ? c->txlen : sizeof c->tx);
    explicit_bzero(c->fr.buf, c->fr.have < sizeof c->fr.buf ? c->fr.have + 1 : sizeof c->fr.buf);
    tps_msg_wipe(&c->msg);
    tps_enc_wipe(&c->reply);
    explicit_bzero(c, offsetof(struct conv, resp));
}

/* Read and answer until END_OP (and the end of the answer, briefly) or a failure. */
static void converse(struct conv *c)
{
    bool need_wait = false;
    for (;;) {
        if (c->done && (c->resp.done || c->failed))
            return;
        /* over TLS the layer may hold bytes the socket no longer shows: read until AGAIN */
        if (need_wait &&
            wait_io(c, false, c->done ? END_WAIT_MS : c->msg_timeout_ms, c->t_fresh) < 0)
            return;
        size_t n;
        enum tps_io_rc r = tps_io_recv(&c->io, c->rx, sizeof c->rx, &n);
        if (r == TPS_IO_OK) {
            feed(c, c->rx, n);
            explicit_bzero(c->rx, n);
            if (c->failed || (c->txlen && flush(c) < 0))
                return;
            need_wait = !c->io.tls;
        } else if (r == TPS_IO_AGAIN) {
            need_wait = true;
        } else {
            if (r == TPS_IO_EOF)
                set_err(c, ESC_ERR_NETWORK,
                        "The token server closed the connection before the end of the "
                        "operation.");
            set_err(c, ESC_ERR_NETWORK, LOST);
            return;
        }
    }
}

esc_err tps_conv_run(const struct tps_conv_opts *opts, struct tps_enc *first,
                     tps_conv_handler handler, void *ctx, struct tps_conv_stats *stats, char *err,
                     size_t errlen)
{
    struct tps_conv_stats dummy;
    struct conv *c = NULL;
    esc_err rc;
    double t0 = now_s();

    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    if (err && errlen)
        err[0] = '\0';
    if (!opts || !opts->url || !first || !handler || !(c = malloc(sizeof *c))) {
        esc_seterr(err, errlen, INTERNAL);
        return ESC_ERR_INTERNAL;
    }
    memset(c, 0, offsetof(struct conv, resp)); /* the fields; the buffers are set up below */
    c->io.fd = CURL_SOCKET_BAD;
    c->msg.n = c->msg.used = 0;
    c->msg.type = -1;
    c->reply.len = 0;
    c->reply.err = false;
    c->handler = handler;
    c->ctx = ctx;
    c->max_msgs = opts->max_msgs;
    c->msg_timeout_ms = opts->msg_timeout_ms;
    c->stop = opts->stop;
    c->st = stats;
    c->err = err;
    c->errlen = errlen;
    c->t_wait = t0; /* the connect counts against the first message's deadline */
    tps_framer_init(&c->fr);
    http_resp_init(&c->resp);

    long ct = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : opts->msg_timeout_ms;
    rc = tps_io_open(&c->io, opts->url, opts->ca_file, ct, opts->stop, err, errlen);
    stats->connects = tps_io_connects(&c->io);
    if (rc == ESC_OK) {
        if (queue_head(c, opts->url) < 0 || queue_frame(c, first) < 0)
            set_err(c, ESC_ERR_INTERNAL, INTERNAL);
        else if (flush(c) == 0)
            converse(c);
        rc = c->done ? ESC_OK : c->failed ? c->rc : ESC_ERR_INTERNAL;
    }
    if (err && errlen && !err[0] && rc != ESC_OK)
        snprintf(err, errlen, "%s", INTERNAL);
    stats->wall_s = now_s() - t0;
    tps_io_close(&c->io);
    conv_wipe(c);
    free(c);
    return rc;
}
