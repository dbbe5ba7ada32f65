/* tpsd_conv: lock-step message exchange over the chunked streams, with fault knobs. */
#include "tpsd_conv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tpsd_log.h"

static int frame_cb(void *ctx, const char *payload, size_t len)
{
    struct tpsd_conv *c = ctx;
    unsigned slot;
    if (c->q_count == TPSD_CONV_QUEUE || len > TPS_MSG_MAX)
        return 1; /* a client flooding a lock-step protocol */
    slot = (c->q_head + c->q_count) % TPSD_CONV_QUEUE;
    memcpy(c->queue[slot], payload, len);
    c->queue_len[slot] = len;
    c->q_count++;
    return 0;
}

static int chunk_cb(void *ctx, const char *data, size_t len)
{
    struct tpsd_conv *c = ctx;
    int rc = tps_framer_push(&c->framer, data, len, frame_cb, c);
    return rc == 0 ? 0 : 1;
}

static int feed(struct tpsd_conv *c, const char *buf, size_t len)
{
    if (tpsd_chunk_push(&c->dec, buf, len, chunk_cb, c) != 0) {
        tpsd_log(c->conn->id, "malformed request body (chunking or s=<len> framing)");
        c->failed = true;
        return -1;
    }
    if (tpsd_chunk_done(&c->dec))
        c->client_ended = true;
    return 0;
}

void tpsd_conv_init(struct tpsd_conv *c, struct tpsd_conn *conn, const struct tpsd_faults *f,
                    int timeout_ms, const char *initial, size_t initial_len)
{
    memset(c, 0, sizeof(*c));
    c->conn = conn;
    c->faults = *f;
    c->timeout_ms = timeout_ms;
    tpsd_chunk_init(&c->dec);
    tps_framer_init(&c->framer);
    if (initial_len)
        feed(c, initial, initial_len);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int write_chunk(struct tpsd_conv *c, const char *data, size_t len)
{
    char out[TPS_FRAME_MAX + 32];
    size_t n = tpsd_chunk_encode(data, len, out, sizeof(out));
    if (n == 0 || tpsd_conn_write(c->conn, out, n, tpsd_now_ms() + c->timeout_ms) < 0) {
        c->failed = true;
        return -1;
    }
    return 0;
}

int tpsd_conv_send(struct tpsd_conv *c, struct tps_enc *e)
{
    size_t len;
    const char *frame = tps_enc_frame(e, &len);
    unsigned n;
    if (c->failed || !frame) {
        c->failed = true;
        return -1;
    }
    n = ++c->sent;
    if (c->faults.latency_ms)
        sleep_ms(c->faults.latency_ms);
    if (c->faults.stall_at == n) {
        tpsd_log(c->conn->id, "fault: stalling %u s before message %u", c->faults.stall_secs, n);
        sleep_ms(c->faults.stall_secs * 1000);
    }
    if (c->faults.malformed_at == n) {
        /* framed correctly, but a bad %-escape and a pdu_size that does not match */
        static const char junk[] = "msg_type=9&pdu_size=5&pdu_data=%G%";
        char framed[64];
        int fl = snprintf(framed, sizeof(framed), "s=%zu&%s", sizeof(junk) - 1, junk);
        tpsd_log(c->conn->id, "fault: malformed message %u", n);
        write_chunk(c, framed, (size_t)fl);
        c->faulted = c->failed = true;
        return -1;
    }
    if (c->faults.oversized_at == n) {
        /* one byte over the protocol's limit (TPS_MSG_MAX), announced and sent */
        char *big = malloc(16 + TPS_MSG_MAX + 1);
        int hl = 0;
        if (big) {
            hl = snprintf(big, 16, "s=%d&", TPS_MSG_MAX + 1);
            memset(big + hl, 'A', TPS_MSG_MAX + 1);
            memcpy(big + hl, "msg_type=9&pdu_size=2&pdu_data=", 31);
            tpsd_log(c->conn->id, "fault: oversized message %u", n);
            write_chunk(c, big, (size_t)hl + TPS_MSG_MAX + 1);
            free(big);
        }
        c->faulted = c->failed = true;
        return -1;
    }
    if (tpsd_log_verbose())
        tpsd_log(c->conn->id, "-> %.200s", frame);
    if (write_chunk(c, frame, len) < 0)
        return -1;
    if (c->faults.drop_after == n) {
        tpsd_log(c->conn->id, "fault: closing the connection after message %u", n);
        tpsd_conn_close(c->conn);
        c->faulted = c->failed = true;
        return -1;
    }
    if (c->faults.reset_after == n) {
        tpsd_log(c->conn->id, "fault: resetting the connection after message %u", n);
        tpsd_conn_abort(c->conn);
        c->faulted = c->failed = true;
        return -1;
    }
    return 0;
}

int tpsd_conv_recv(struct tpsd_conv *c, struct tps_msg *m)
{
    long long deadline = tpsd_now_ms() + c->timeout_ms;
    char buf[16384];
    while (c->q_count == 0) {
        ssize_t n;
        if (c->failed)
            return -1;
        if (c->client_ended) {
            tpsd_log(c->conn->id, "the client ended its request body in mid-conversation");
            c->failed = true;
            return -1;
        }
        n = tpsd_conn_read(c->conn, buf, sizeof(buf), deadline);
        if (n <= 0) {
            tpsd_log(c->conn->id, "%s while waiting for client message %u",
                     n == -2  ? "timeout"
                     : n == 0 ? "connection closed"
                              : "read error",
                     c->received + 1);
            c->failed = true;
            return -1;
        }
        if (feed(c, buf, (size_t)n) < 0)
            return -1;
    }
    {
        unsigned slot = c->q_head;
        int rc = tps_msg_decode(m, c->queue[slot], c->queue_len[slot]);
        if (tpsd_log_verbose()) {
            /* never log a PIN or password: only the message type for those */
            int t = rc == 0 ? m->type : -1;
            if (t == TPS_MSG_LOGIN_RESPONSE || t == TPS_MSG_EXTENDED_LOGIN_RESPONSE ||
                t == TPS_MSG_NEW_PIN_RESPONSE)
                tpsd_log(c->conn->id, "<- msg_type=%d (credentials not logged)", t);
            else
                tpsd_log(c->conn->id, "<- %.200s", c->queue[slot]);
        }
        explicit_bzero(c->queue[slot], c->queue_len[slot]);
        c->q_head = (c->q_head + 1) % TPSD_CONV_QUEUE;
        c->q_count--;
        c->received++;
        if (rc != 0) {
            tpsd_log(c->conn->id, "undecodable client message %u", c->received);
            c->failed = true;
            return -1;
        }
    }
    return 0;
}

int tpsd_conv_exchange(struct tpsd_conv *c, struct tps_enc *e, struct tps_msg *m, int want)
{
    if (tpsd_conv_send(c, e) < 0 || tpsd_conv_recv(c, m) < 0)
        return -1;
    if (m->type != want) {
        tpsd_log(c->conn->id, "expected %s, got %s", tps_msg_type_name(want),
                 tps_msg_type_name(m->type));
        return -1;
    }
    return 0;
}

void tpsd_conv_finish(struct tpsd_conv *c)
{
    long long deadline;
    char buf[4096];
    if (c->failed)
        return;
    if (tpsd_conn_write(c->conn, "0\r\n\r\n", 5, tpsd_now_ms() + c->timeout_ms) < 0)
        return;
    /* Wait briefly for the client's own terminator or its close. */
    deadline = tpsd_now_ms() + 2000;
    while (!c->client_ended) {
        ssize_t n = tpsd_conn_read(c->conn, buf, sizeof(buf), deadline);
        if (n <= 0)
            break;
        if (tpsd_chunk_push(&c->dec, buf, (size_t)n, NULL, NULL) != 0)
            break;
        if (tpsd_chunk_done(&c->dec)) {
            c->client_ended = true;
            break;
        }
    }
}
