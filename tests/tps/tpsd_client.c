/* tpsd_client: a test client for the TPS conversation. */
#include "tpsd_client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tps_msg.h"
#include "tpsd_http.h"

struct client {
    int fd;
    SSL *ssl;
    int timeout_ms;
    size_t split;
    struct tpsd_chunk_dec dec;
    struct tps_framer framer;
    char msg[TPS_MSG_MAX + 1];
    size_t msg_len;
    int have_msg;
    struct tpsd_client_result *r;
};

static int send_all(struct client *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)n) : send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

static int send_msg(struct client *c, struct tps_enc *e)
{
    size_t len, off = 0;
    const char *f = tps_enc_frame(e, &len);
    if (!f)
        return -1;
    while (off < len) {
        char out[TPS_FRAME_MAX + 32];
        size_t n = c->split && len - off > c->split ? c->split : len - off;
        size_t cl = tpsd_chunk_encode(f + off, n, out, sizeof(out));
        if (cl == 0 || send_all(c, out, cl) < 0)
            return -1;
        off += n;
    }
    return 0;
}

static ssize_t c_recv(struct client *c, char *buf, size_t cap)
{
    if (c->ssl) {
        int n = SSL_read(c->ssl, buf, (int)cap);
        return n > 0 ? n : 0;
    }
    return recv(c->fd, buf, cap, 0);
}

/* Waits for input (TLS may already hold decrypted bytes). */
static int c_wait(struct client *c)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (c->ssl && SSL_pending(c->ssl) > 0)
        return 1;
    return poll(&p, 1, c->timeout_ms);
}

static int on_frame(void *ctx, const char *payload, size_t len)
{
    struct client *c = ctx;
    if (c->have_msg)
        return 1; /* the server is lock-step: never two messages without an answer */
    memcpy(c->msg, payload, len);
    c->msg_len = len;
    c->have_msg = 1;
    return 0;
}

static int on_chunk(void *ctx, const char *data, size_t len)
{
    struct client *c = ctx;
    return tps_framer_push(&c->framer, data, len, on_frame, c) ? 1 : 0;
}

/* Reads until one whole server message is there. 0, or -1 (closed / timeout / garbage). */
static int recv_msg(struct client *c, struct tps_msg *m)
{
    char buf[8192];
    while (!c->have_msg) {
        ssize_t n;
        if (c_wait(c) <= 0) {
            snprintf(c->r->error, sizeof(c->r->error), "no message from the TPS within %d ms",
                     c->timeout_ms);
            return -1;
        }
        n = c_recv(c, buf, sizeof(buf));
        if (n <= 0) {
            snprintf(c->r->error, sizeof(c->r->error),
                     "the TPS closed the connection without END_OP");
            return -1;
        }
        if (tpsd_chunk_push(&c->dec, buf, (size_t)n, on_chunk, c) != 0) {
            snprintf(c->r->error, sizeof(c->r->error), "malformed chunk or message from the TPS");
            return -1;
        }
        if (!c->have_msg && tpsd_chunk_done(&c->dec)) {
            snprintf(c->r->error, sizeof(c->r->error), "the TPS ended its response without END_OP");
            return -1;
        }
    }
    c->have_msg = 0;
    c->r->messages++;
    if (tps_msg_decode(m, c->msg, c->msg_len) < 0) {
        snprintf(c->r->error, sizeof(c->r->error), "undecodable message from the TPS");
        return -1;
    }
    return 0;
}

static int read_head(struct client *c)
{
    char buf[8192];
    size_t have = 0;
    long head;
    int status;
    while ((head = tpsd_http_head_len(buf, have)) == 0) {
        ssize_t n;
        if (c_wait(c) <= 0)
            return -1;
        n = c_recv(c, buf + have, sizeof(buf) - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    if (head < 0 || sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    if (status == 100) { /* interim answer: the real one follows */
        memmove(buf, buf + head, have - (size_t)head);
        have -= (size_t)head;
        while ((head = tpsd_http_head_len(buf, have)) == 0) {
            ssize_t n = c_recv(c, buf + have, sizeof(buf) - have);
            if (n <= 0)
                return -1;
            have += (size_t)n;
        }
        if (head < 0 || sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
            return -1;
    }
    if (status == 200 && (size_t)head < have &&
        tpsd_chunk_push(&c->dec, buf + head, have - (size_t)head, on_chunk, c) != 0)
        return -1;
    return status;
}

static const char *str_or(const struct tps_msg *m, const char *key, const char *dflt)
{
    const char *v = tps_msg_str(m, key);
    return v ? v : dflt;
}

static int relay_apdu(struct client *c, const struct tpsd_client_opts *o, const struct tps_msg *m,
                      struct tps_enc *e)
{
    const struct tps_field *f = tps_msg_get(m, "pdu_data");
    uint8_t resp[300];
    size_t rlen = 0;
    if (!f || f->len < 4) {
        snprintf(c->r->error, sizeof(c->r->error), "TOKEN_PDU_REQUEST without an APDU");
        return -1;
    }
    c->r->apdus++;
    if (o->card(o->card_ctx, f->val, f->len, resp, &rlen) < 0 || rlen < 2 || rlen > 258) {
        snprintf(c->r->error, sizeof(c->r->error), "the card did not answer APDU %u", c->r->apdus);
        return -1;
    }
    tps_enc_init(e, TPS_MSG_TOKEN_PDU_RESPONSE);
    tps_enc_int(e, "pdu_size", (long)rlen);
    tps_enc_bytes(e, "pdu_data", resp, rlen);
    if (o->trace)
        fprintf(o->trace, "TOKEN_PDU %02X %02X %02X %02X -> %02X%02X\n", f->val[0], f->val[1],
                f->val[2], f->val[3], resp[rlen - 2], resp[rlen - 1]);
    return 0;
}

/* The answer to one server message into e; 1 when it was END_OP, 0 to go on, -1 on error. */
static int answer(struct client *c, const struct tpsd_client_opts *o, const struct tps_msg *m,
                  struct tps_enc *e)
{
    struct tpsd_client_result *r = c->r;
    switch (m->type) {
    case TPS_MSG_TOKEN_PDU_REQUEST:
        return relay_apdu(c, o, m, e);
    case TPS_MSG_LOGIN_REQUEST:
        r->login = true;
        if (o->trace)
            fprintf(o->trace, "LOGIN_REQUEST\n");
        tps_enc_init(e, TPS_MSG_LOGIN_RESPONSE);
        tps_enc_text(e, "screen_name", o->user ? o->user : "", TPS_TEXT_ESC);
        tps_enc_text(e, "password", o->password ? o->password : "", TPS_TEXT_ESC);
        return 0;
    case TPS_MSG_EXTENDED_LOGIN_REQUEST:
        r->ext_login = true;
        if (o->trace)
            fprintf(o->trace, "EXTENDED_LOGIN_REQUEST %s\n", str_or(m, "title", ""));
        tps_enc_init(e, TPS_MSG_EXTENDED_LOGIN_RESPONSE);
        tps_enc_text(e, "UID", o->user ? o->user : "", TPS_TEXT_ESC);
        tps_enc_text(e, "PASSWORD", o->password ? o->password : "", TPS_TEXT_ESC);
        return 0;
    case TPS_MSG_NEW_PIN_REQUEST:
        r->new_pin = true;
        tps_msg_long(m, "minimum_length", 0, 99, &r->pin_min);
        tps_msg_long(m, "maximum_length", 0, 99, &r->pin_max);
        if (o->trace)
            fprintf(o->trace, "NEW_PIN_REQUEST min=%ld max=%ld\n", r->pin_min, r->pin_max);
        tps_enc_init(e, TPS_MSG_NEW_PIN_RESPONSE);
        tps_enc_raw(e, "new_pin", o->new_pin ? o->new_pin : "");
        return 0;
    case TPS_MSG_STATUS_UPDATE_REQUEST: {
        long pct = -1;
        tps_msg_long(m, "current_state", 0, 100, &pct);
        if (r->n_progress < sizeof(r->progress) / sizeof(r->progress[0]))
            r->progress[r->n_progress++] = (int)pct;
        if (o->trace)
            fprintf(o->trace, "STATUS_UPDATE %ld %s\n", pct, str_or(m, "next_task_name", ""));
        tps_enc_init(e, TPS_MSG_STATUS_UPDATE_RESPONSE);
        tps_enc_int(e, "current_state", pct);
        return 0;
    }
    case TPS_MSG_END_OP: {
        long v;
        r->end_op = true;
        r->operation = tps_msg_long(m, "operation", 0, 99, &v) == 0 ? (int)v : -1;
        r->result = tps_msg_long(m, "result", 0, 99, &v) == 0 ? (int)v : -1;
        r->message = tps_msg_long(m, "message", 0, 99, &v) == 0 ? (int)v : -1;
        return 1;
    }
    default:
        snprintf(r->error, sizeof(r->error), "unexpected message type %d", m->type);
        return -1;
    }
}

int tpsd_client_run(int fd, SSL *ssl, const char *host, const char *path,
                    const struct tpsd_client_opts *o, struct tpsd_client_result *r)
{
    struct client *c = calloc(1, sizeof(*c));
    struct tps_enc *e = calloc(1, sizeof(*e));
    struct tps_msg *m = calloc(1, sizeof(*m));
    struct tps_kv kv[4];
    size_t nkv = 0;
    char req[1024];
    int ret = -1, rc;
    memset(r, 0, sizeof(*r));
    r->pin_min = r->pin_max = -1;
    if (!c || !e || !m) {
        snprintf(r->error, sizeof(r->error), "out of memory");
        goto out;
    }
    c->fd = fd;
    c->ssl = ssl;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 60000;
    c->split = o->split;
    c->r = r;
    tpsd_chunk_init(&c->dec);
    tps_framer_init(&c->framer);
    snprintf(req, sizeof(req),
             "POST %s HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n"
             "Content-Type: text/plain\r\n\r\n",
             path, host);
    if (send_all(c, req, strlen(req)) < 0 || (r->http_status = read_head(c)) < 0) {
        snprintf(r->error, sizeof(r->error), "no HTTP answer");
        goto out;
    }
    if (r->http_status != 200) {
        snprintf(r->error, sizeof(r->error), "HTTP %d", r->http_status);
        goto out;
    }
    tps_enc_init(e, TPS_MSG_BEGIN_OP);
    tps_enc_int(e, "operation", o->op);
    if (o->type)
        kv[nkv++] = (struct tps_kv){"tokenType", o->type};
    kv[nkv++] = (struct tps_kv){"clientVersion", "tps-client 1.0"};
    if (o->status_update)
        kv[nkv++] = (struct tps_kv){"statusUpdate", "true"};
    if (o->ext_login)
        kv[nkv++] = (struct tps_kv){"extendedLoginRequest", "true"};
    tps_enc_kvlist(e, "extensions", kv, nkv, TPS_TEXT_ESC);
    for (;;) {
        if (send_msg(c, e) < 0) {
            snprintf(r->error, sizeof(r->error), "cannot send to the TPS");
            goto out;
        }
        tps_enc_wipe(e);
        if (recv_msg(c, m) < 0)
            goto out;
        rc = answer(c, o, m, e);
        if (rc < 0)
            goto out;
        if (rc == 1)
            break;
    }
    send_all(c, "0\r\n\r\n", 5); /* end our request body, as HTTP/1.1 wants */
    ret = 0;
out:
    if (e)
        tps_enc_wipe(e);
    if (m)
        tps_msg_wipe(m);
    free(c);
    free(e);
    free(m);
    return ret;
}
