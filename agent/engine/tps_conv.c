/* tps_conv: the TPS conversation over libcurl, following the recipe proven in
 * reference/libcurl-duplex.md §4 (multi interface, unpause from the write callback, own
 * per-message deadline, own end-of-file check on the socket captured in SOCKOPTFUNCTION). */
#include "tps_conv.h"

#include "tls_anchors.h"
#include "trust.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define TX_FRAMES 8 /* answers queued at most (a TPS that coalesces messages, §1 coalesce) */

#define INTERNAL "An internal error stopped the conversation with the token server."

struct conv {
    CURL *h;
    size_t txlen, txoff;
    size_t ends[TX_FRAMES];
    size_t nends;
    bool paused;  /* the read callback returned CURL_READFUNC_PAUSE */
    bool done;    /* the handler saw the end of the conversation */
    bool waiting; /* we sent everything and wait for the TPS */
    bool kick;    /* an answer was just unpaused: libcurl has it to send at once */
    bool idle;    /* the last wait saw no event on libcurl's sockets */
    double t_wait;
    bool failed; /* a failure decided by us: rc */
    esc_err rc;
    curl_socket_t fd;
    tps_conv_handler handler;
    void *ctx;
    unsigned long max_msgs;
    struct tps_conv_stats *st;
    char *err;
    size_t errlen;
    struct tls_share *share; /* the TLS session cache in use, or NULL */
    /* The buffers (110 KB) come last: neither zeroed when allocated nor wiped whole at the
     * end (both were a tenth of the warm agent's instructions for a PIN reset); what they held
     * is wiped where it was written (conv_wipe, on_message, queue_frame). */
    struct tps_framer fr;
    struct tps_msg msg;
    struct tps_enc reply;
    /* upload queue: framed messages back to back; ends[] marks each message's end so that
     * each read callback hands out at most one message (one chunk per message, like ESC) */
    char tx[TX_FRAMES * TPS_FRAME_MAX];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_err(struct conv *c, esc_err rc, const char *msg)
{
    if (!c->failed) {
        c->failed = true;
        c->rc = rc;
    }
    if (c->err && c->errlen && !c->err[0])
        snprintf(c->err, c->errlen, "%s", msg);
}

static void set_http_err(struct conv *c, long code)
{
    char msg[96];
    snprintf(msg, sizeof msg, "The token server answered with HTTP status %ld.", code);
    set_err(c, ESC_ERR_SERVER, msg);
}

/* Everything the buffers may still hold: the queue (the password, the PIN), a message half
 * received, the last decoded message and answer (wiped after each message already). */
static void conv_wipe(struct conv *c)
{
    explicit_bzero(c->tx, c->txlen <= sizeof c->tx ? c->txlen : sizeof c->tx);
    explicit_bzero(c->fr.buf, c->fr.have < sizeof c->fr.buf ? c->fr.have + 1 : sizeof c->fr.buf);
    tps_msg_wipe(&c->msg);
    tps_enc_wipe(&c->reply);
    explicit_bzero(c, offsetof(struct conv, fr));
}

static int queue_frame(struct conv *c, struct tps_enc *e)
{
    size_t n;
    const char *s = tps_enc_frame(e, &n);
    if (!s)
        return -1;
    if (c->txoff == c->txlen) { /* everything sent: start over */
        explicit_bzero(c->tx, c->txlen);
        c->txoff = c->txlen = 0;
        c->nends = 0;
    }
    if (c->nends >= TX_FRAMES || n > sizeof c->tx - c->txlen)
        return -1;
    memcpy(c->tx + c->txlen, s, n);
    c->txlen += n;
    c->ends[c->nends++] = c->txlen;
    c->st->msgs_out++;
    c->st->bytes_out += n;
    return 0;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    struct conv *c = ud;
    size_t room = size * nitems;
    if (c->txoff < c->txlen) {
        size_t end = c->txlen;
        for (size_t i = 0; i < c->nends; i++) {
            if (c->ends[i] > c->txoff) {
                end = c->ends[i];
                break;
            }
        }
        size_t k = end - c->txoff;
        if (k > room)
            k = room;
        memcpy(buf, c->tx + c->txoff, k);
        c->txoff += k;
        if (c->txoff == c->txlen && !c->done) {
            c->waiting = true;
            c->t_wait = now_s();
        }
        return k;
    }
    if (c->done)
        return 0; /* libcurl sends the 0-chunk (libcurl-duplex.md §3: the client must end) */
    c->paused = true;
    return CURL_READFUNC_PAUSE;
}

static int handle_message(struct conv *c, const char *payload, size_t len);

/* One message from the framer; its payload (in the framer's buffer) wiped once handled. */
static int on_message(void *ud, const char *payload, size_t len)
{
    struct conv *c = ud;
    int rc = handle_message(c, payload, len);
    explicit_bzero(c->fr.buf, len < sizeof c->fr.buf ? len + 1 : sizeof c->fr.buf);
    return rc;
}

static int handle_message(struct conv *c, const char *payload, size_t len)
{
    c->st->msgs_in++;
    c->st->bytes_in += len + 4 + (len >= 1000) + (len >= 100) + (len >= 10); /* + "s=N&" */
    c->waiting = false;
    if (c->max_msgs && c->st->msgs_in > c->max_msgs) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 "The token server sent more than %lu messages; the operation "
                 "was stopped.",
                 c->max_msgs);
        set_err(c, ESC_ERR_PROTOCOL, msg);
        return -1;
    }
    if (c->done) {
        set_err(c, ESC_ERR_PROTOCOL, "The token server sent a message after the end.");
        return -1;
    }
    if (tps_msg_decode(&c->msg, payload, len) < 0) {
        set_err(c, ESC_ERR_PROTOCOL, "The token server sent a malformed message.");
        return -1;
    }
    /* the reply is empty here: initialised, then wiped after every message */
    enum tps_conv_next next = c->handler(c->ctx, &c->msg, &c->reply);
    tps_msg_wipe(&c->msg);
    int queued = next == TPS_CONV_REPLY ? queue_frame(c, &c->reply) : 0;
    tps_enc_wipe(&c->reply); /* whatever the handler wrote, answer or not */
    switch (next) {
    case TPS_CONV_REPLY:
        if (queued < 0) {
            set_err(c, ESC_ERR_INTERNAL, "An answer to the token server could not be built.");
            return -1;
        }
        return 0;
    case TPS_CONV_DONE:
        c->done = true;
        return 0;
    default:
        set_err(c, ESC_ERR_CANCELLED, "The operation was abandoned.");
        return -1;
    }
}

static size_t write_cb(char *data, size_t size, size_t nitems, void *ud)
{
    struct conv *c = ud;
    size_t n = size * nitems;
    long code = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        set_http_err(c, code);
        return 0;
    }
    int rc = tps_framer_push(&c->fr, data, n, on_message, c);
    if (rc != 0) {
        set_err(c, ESC_ERR_PROTOCOL, "The token server sent a badly framed message.");
        return 0; /* != n: libcurl aborts with CURLE_WRITE_ERROR */
    }
    if (c->paused && (c->txoff < c->txlen || c->done)) {
        c->paused = false;
        c->kick = true;
        curl_easy_pause(c->h, CURLPAUSE_CONT); /* legal inside the callback */
    }
    return n;
}

static int sockopt_cb(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    struct conv *c = ud;
    if (purpose == CURLSOCKTYPE_IPCXN)
        c->fd = fd;
    return CURL_SOCKOPT_OK;
}

/* The TPS closed its side while we wait: libcurl would hang (libcurl-duplex.md §3). Once
 * libcurl has read the end of the response it stops watching the socket while the upload is
 * paused, so an error on the socket is ours to see too: when the TPS closes right after a
 * message whose answer goes out at once (a status update), that answer meets the closed
 * socket and the peer's RST sets POLLERR|POLLHUP; libcurl never reports it, and leaving
 * POLLERR to libcurl made the conversation wait out the whole per-message timeout (90 s). */
static bool peer_closed(curl_socket_t fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    char ch;
    if (fd == CURL_SOCKET_BAD || poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & POLLNVAL)
        return false;
    /* a message still unread (END_OP, then the TPS's close) is libcurl's to read first */
    ssize_t r = recv(fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r == 0)
        return true;
    if (r > 0)
        return false;
    return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
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

/* The error and the sentence of a failed transfer. */
static const char LOST[] = "The connection to the token server was lost.";

static esc_err map_curl(CURLcode cc, const char **sentence)
{
    if (trust_tls_failed(cc)) {
        *sentence = "The token server's TLS certificate is not trusted.";
        return ESC_ERR_TLS;
    }
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        *sentence = "The token server cannot be reached.";
        return ESC_ERR_NETWORK;
    case CURLE_OPERATION_TIMEDOUT:
        *sentence = "The token server did not answer in time.";
        return ESC_ERR_TPS_TIMEOUT;
    default:
        *sentence = LOST;
        return ESC_ERR_NETWORK;
    }
}

/* TLS sessions shared by every conversation of the process: the long-lived session agent
 * resumes its last session with the TPS (an abbreviated handshake: no certificate chain to
 * decode and verify, which was three quarters of the agent's CPU for a PIN reset). The server
 * was verified when the session was made; libcurl keys the cache by host, port and TLS
 * settings. A resumed session is never verified again, so the cache belongs to one reading of
 * the trust anchors (tls_anchors.h): when the CA file changes, or another one is configured,
 * the next conversation starts a new cache (the old one is freed by its last user). A one-shot
 * escctl gains nothing and loses nothing. */
struct tls_share {
    CURLSH *sh;
    const struct tls_anchors *anchors; /* the anchors and their generation it belongs to */
    unsigned long gen;
    unsigned users; /* conversations holding it */
    bool stale;     /* replaced: freed by the last user */
};
static struct tls_share *share_now;
static pthread_mutex_t share_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t tls_share_mu[CURL_LOCK_DATA_LAST];
static pthread_once_t tls_share_once = PTHREAD_ONCE_INIT;

static void tls_share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
    (void)h, (void)a, (void)u;
    pthread_mutex_lock(&tls_share_mu[d < CURL_LOCK_DATA_LAST ? d : 0]);
}

static void tls_share_unlock(CURL *h, curl_lock_data d, void *u)
{
    (void)h, (void)u;
    pthread_mutex_unlock(&tls_share_mu[d < CURL_LOCK_DATA_LAST ? d : 0]);
}

static void tls_share_init(void)
{
    for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&tls_share_mu[i], NULL);
}

static void share_free(struct tls_share *s)
{
    if (s) {
        curl_share_cleanup(s->sh);
        free(s);
    }
}

static struct tls_share *share_new(const struct tls_anchors *a, unsigned long gen, bool *oom)
{
    struct tls_share *s = calloc(1, sizeof *s);
    if (!s) {
        *oom = true; /* like every other allocation of the conversation: it stops */
        return NULL;
    }
    if (!(s->sh = curl_share_init()) ||
        curl_share_setopt(s->sh, CURLSHOPT_LOCKFUNC, tls_share_lock) != CURLSHE_OK ||
        curl_share_setopt(s->sh, CURLSHOPT_UNLOCKFUNC, tls_share_unlock) != CURLSHE_OK ||
        curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
        share_free(s);
        return NULL; /* full handshakes, as before */
    }
    s->anchors = a;
    s->gen = gen;
    return s;
}

/* The session cache for a conversation trusting (a, gen); NULL: none (a full handshake), or
 * with *oom set, no memory for it. */
static struct tls_share *share_take(const struct tls_anchors *a, unsigned long gen, bool *oom)
{
    pthread_once(&tls_share_once, tls_share_init);
    pthread_mutex_lock(&share_mu);
    if (share_now && (share_now->anchors != a || share_now->gen != gen)) {
        if (share_now->users)
            share_now->stale = true;
        else
            share_free(share_now);
        share_now = NULL;
    }
    if (!share_now)
        share_now = share_new(a, gen, oom);
    struct tls_share *s = share_now;
    if (s)
        s->users++;
    pthread_mutex_unlock(&share_mu);
    return s;
}

/* After the handle using it is cleaned up. */
static void share_give(struct tls_share *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&share_mu);
    if (--s->users == 0 && s->stale)
        share_free(s);
    pthread_mutex_unlock(&share_mu);
}

static int setup(struct conv *c, const struct tps_conv_opts *o, struct curl_slist **hdr)
{
    CURL *h = c->h;
    long ct = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : o->msg_timeout_ms;
    *hdr = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    if (*hdr)
        *hdr = curl_slist_append(*hdr, "Expect:"); /* else a 1 s stall (libcurl-duplex.md §2) */
    if (*hdr)
        *hdr = curl_slist_append(*hdr, "Content-Type: text/plain");
    if (!*hdr)
        return -1;
    if (tps_tls_setup(h, o->ca_file, c->err, c->errlen) < 0) {
        set_err(c, ESC_ERR_TLS, "TLS could not be set up.");
        return -1;
    }
    /* over https, the session cache of the anchors this connection will verify with (read now
     * if their files changed; an unreadable file is left to the connection to report) */
    if (strncasecmp(o->url, "https:", 6) == 0) {
        struct tls_anchors *a = tls_anchors_get(o->ca_file);
        unsigned long gen = 0;
        bool oom = false;
        if (!a || tls_anchors_refresh(a, &gen, NULL, 0) == 0)
            c->share = share_take(a, gen, &oom);
        if (oom) {
            set_err(c, ESC_ERR_INTERNAL, INTERNAL);
            return -1;
        }
    }
    if (c->share)
        (void)curl_easy_setopt(h, CURLOPT_SHARE, c->share->sh);
    if (curl_easy_setopt(h, CURLOPT_URL, o->url) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdr) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_READDATA, c) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, c) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, sockopt_cb) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, c) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ct) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_USERAGENT, "pam_esc") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*") != CURLE_OK)
        return -1;
    return 0;
}

esc_err tps_conv_run(const struct tps_conv_opts *opts, struct tps_enc *first,
                     tps_conv_handler handler, void *ctx, struct tps_conv_stats *stats, char *err,
                     size_t errlen)
{
    struct tps_conv_stats dummy;
    struct conv *c = NULL;
    CURLM *m = NULL;
    struct curl_slist *hdr = NULL;
    esc_err rc = ESC_ERR_INTERNAL;
    int running = 1;
    double t0 = now_s();
    bool added = false;

    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    if (err && errlen)
        err[0] = '\0';
    if (!opts || !opts->url || !first || !handler || !(c = malloc(sizeof *c))) {
        esc_seterr(err, errlen, INTERNAL);
        return ESC_ERR_INTERNAL;
    }
    memset(c, 0, offsetof(struct conv, fr)); /* the fields; the buffers are initialised below */
    c->msg.n = c->msg.used = 0;
    c->msg.type = -1;
    c->reply.len = 0;
    c->reply.err = false;
    c->fd = CURL_SOCKET_BAD;
    c->handler = handler;
    c->ctx = ctx;
    c->max_msgs = opts->max_msgs;
    c->st = stats;
    c->err = err;
    c->errlen = errlen;
    tps_framer_init(&c->fr);
    c->h = curl_easy_init();
    m = curl_multi_init();
    if (!c->h || !m || setup(c, opts, &hdr) < 0 || queue_frame(c, first) < 0)
        goto out;
    if (curl_multi_add_handle(m, c->h) != CURLM_OK)
        goto out;
    added = true;
    c->waiting = true; /* the connect counts against the deadline too */
    c->t_wait = now_s();

    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            goto out;
        if (!running || c->failed)
            break;
        esc_err why = op_stop_check(opts->stop);
        if (why != ESC_OK) {
            set_err(c, why, "The operation was stopped.");
            break;
        }
        if (c->waiting && opts->msg_timeout_ms > 0 &&
            (now_s() - c->t_wait) * 1000.0 > (double)opts->msg_timeout_ms) {
            set_err(c, ESC_ERR_TPS_TIMEOUT, "The token server did not answer in time.");
            break;
        }
        /* after a quiet wait, or 200 ms into a busy one: while messages flow libcurl is
         * reading the socket, and two system calls at every turn of this loop were a tenth of
         * the cost of a relayed APDU */
        if (c->waiting && !c->done && c->fd != CURL_SOCKET_BAD && c->txoff == c->txlen &&
            !tps_framer_pending(&c->fr) && (c->idle || now_s() - c->t_wait > 0.2) &&
            peer_closed(c->fd)) {
            set_err(c, ESC_ERR_NETWORK,
                    "The token server closed the connection before the end of the operation.");
            break;
        }
        /* the answer just queued goes out now, without a wait that would return at once */
        if (c->kick) {
            c->kick = false;
            c->idle = false;
            continue;
        }
        int events = 0;
        if (curl_multi_poll(m, NULL, 0, 100, &events) != CURLM_OK)
            goto out;
        c->idle = events == 0;
    }

    if (c->done) {
        rc = ESC_OK; /* END_OP seen: a failure to send the 0-chunk after it is harmless */
    } else if (c->failed) {
        rc = c->rc;
    } else {
        CURLcode cc = CURLE_OK;
        int left;
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(m, &left)))
            if (msg->msg == CURLMSG_DONE)
                cc = msg->data.result;
        long code = 0;
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
        if (cc == CURLE_OK && code != 200 && code != 0) {
            set_http_err(c, code);
            rc = ESC_ERR_SERVER;
        } else {
            const char *sentence = LOST;
            rc = cc == CURLE_OK ? ESC_ERR_NETWORK : map_curl(cc, &sentence);
            /* libcurl's words add nothing to a lost connection ("Transferred a partial
             * file") but say which of the ways to fail a connection or TLS went */
            if (err && errlen && !err[0] && sentence == LOST)
                snprintf(err, errlen, "%s", sentence);
            else if (err && errlen && !err[0])
                snprintf(err, errlen, "%s (%s)", sentence, curl_easy_strerror(cc));
        }
    }
    curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &stats->connects);
out:
    if (rc == ESC_ERR_INTERNAL && c->failed)
        rc = c->rc;
    if (err && errlen && !err[0] && rc != ESC_OK)
        snprintf(err, errlen, "%s", INTERNAL);
    stats->wall_s = now_s() - t0;
    if (added)
        curl_multi_remove_handle(m, c->h);
    if (c->h)
        curl_easy_cleanup(c->h);
    if (m)
        curl_multi_cleanup(m);
    share_give(c->share);
    curl_slist_free_all(hdr);
    conv_wipe(c);
    free(c);
    return rc;
}
