/* fuzz_tps_op: the operation engine (agent/engine/tps_op.c) against a TPS that sends anything in
 * any order. The network is replaced by a fake conversation: this harness is linked with
 * -Wl,--wrap=tps_conv_run, so tps_op_run's call lands in __wrap_tps_conv_run below, which
 * feeds the handler the fuzzer's messages one by one, exactly as the real conversation does
 * (decode, handler, frame the reply; a malformed message ends it as ESC_ERR_PROTOCOL, a
 * handler failure as ESC_ERR_CANCELLED, running out of messages as ESC_ERR_NETWORK).
 *
 * Input: one settings byte, then the TPS's messages as payloads ("msg_type=9&pdu_size=..."),
 * one per line. Settings: bits 0-2 the operation (1..5), bit 3 user and password preset,
 * bit 4 new PIN preset, bit 5 the user cancels every prompt, bit 6 the card fails.
 *
 * Invariants: the engine never crashes or leaks; every reply is a well-formed message of the
 * response type of the request it answers; the result is success only after END_OP with
 * result=0 and message=0; there is always one sentence for the user, and it never holds the
 * password or the PIN. */
#include "engine/tps_conv.h"
#include "engine/tps_op.h"
#include "engine/trust.h"
#include "tps_msg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_PASSWORD "Pw0rdFuzzSecret"
#define FUZZ_PIN      "8642"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
esc_err __wrap_tps_conv_run(const struct tps_conv_opts *opts, struct tps_enc *first,
                            tps_conv_handler handler, void *ctx, struct tps_conv_stats *stats,
                            char *err, size_t errlen);

static const uint8_t *in_data; /* the messages of the current input */
static size_t in_size;
static bool card_fails, user_cancels, end_ok_seen;

static void set_err(char *err, size_t errlen, const char *s)
{
    if (err && errlen && !err[0])
        snprintf(err, errlen, "%s", s);
}

esc_err __wrap_tps_conv_run(const struct tps_conv_opts *opts, struct tps_enc *first,
                            tps_conv_handler handler, void *ctx, struct tps_conv_stats *stats,
                            char *err, size_t errlen)
{
    static struct tps_msg in, back; /* ~10 KB each */
    static struct tps_enc reply;
    const uint8_t *p = in_data, *end = in_data + in_size;
    size_t n;

    if (err && errlen)
        err[0] = 0;
    if (!opts || !opts->url || !first || !tps_enc_frame(first, &n))
        abort(); /* tps_op_run always hands over a framed BEGIN_OP */
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        const char *payload = (const char *)p;
        p += len + (nl != NULL);
        if (len == 0)
            continue;
        stats->msgs_in++;
        if (tps_msg_decode(&in, payload, len) < 0) {
            set_err(err, errlen, "The token server sent a malformed message.");
            return ESC_ERR_PROTOCOL;
        }
        int type = in.type;
        if (type == TPS_MSG_END_OP) {
            long r;
            /* the result decides (Dogtag sends result 0 only with message 0; 36 and 44 are
             * "processed" statuses); the card read back after the operation (agent_op) is what
             * finally tells success */
            end_ok_seen = tps_msg_long(&in, "result", 0, 1000000, &r) == 0 && r == 0;
        }
        memset(&reply, 0, sizeof reply);
        enum tps_conv_next next = handler(ctx, &in, &reply);
        tps_msg_wipe(&in);
        if (next == TPS_CONV_DONE) {
            if (type != TPS_MSG_END_OP)
                abort(); /* only END_OP ends a conversation */
            return ESC_OK;
        }
        if (next != TPS_CONV_REPLY) {
            set_err(err, errlen, "The operation was abandoned.");
            return ESC_ERR_CANCELLED;
        }
        const char *pl = tps_enc_payload(&reply, &n);
        if (!pl) { /* the real conversation reports this as INTERNAL */
            tps_enc_wipe(&reply);
            set_err(err, errlen, "An answer to the token server could not be built.");
            return ESC_ERR_INTERNAL;
        }
        if (tps_msg_decode(&back, pl, n) < 0 || back.type != type + 1)
            abort(); /* every answer is the response to the request it answers */
        tps_msg_wipe(&back);
        tps_enc_wipe(&reply);
        stats->msgs_out++;
    }
    set_err(err, errlen, "The token server closed the connection before the end.");
    return ESC_ERR_NETWORK;
}

static int ask(void *ctx, const struct tps_ask *q, char *out, size_t cap)
{
    (void)ctx;
    if (user_cancels)
        return -1;
    const char *v = q->kind == TPS_ASK_NEW_PIN  ? FUZZ_PIN
                    : q->kind == TPS_ASK_SECRET ? FUZZ_PASSWORD
                                                : "jsmith";
    snprintf(out, cap, "%s", v);
    return 0;
}

static void progress(void *ctx, int pct, const char *task)
{
    (void)ctx;
    if (pct < 0 || pct > 100)
        abort();
    char words[128];
    tps_task_label(task, words, sizeof words);
}

static int transmit(void *ctx, const unsigned char *apdu, size_t alen, unsigned char *resp,
                    size_t *rlen, size_t rcap)
{
    (void)ctx;
    if (card_fails || alen < 4 || rcap < 4)
        return -1;
    resp[0] = apdu[1];
    resp[1] = (unsigned char)alen;
    resp[2] = 0x90;
    resp[3] = 0x00;
    *rlen = 4;
    return 0;
}

static const struct trust_policy loopback = {.allowed_hosts = "127.0.0.1",
                                             .allow_http_hosts = "127.0.0.1"};

/* What tps_op_run may return against this fake conversation (tps_op.h). */
static bool known(esc_err e)
{
    switch (e) {
    case ESC_OK:
    case ESC_ERR_AUTH_FAILED:
    case ESC_ERR_TPS_REFUSED:
    case ESC_ERR_UNTRUSTED_HOST:
    case ESC_ERR_PCSC:
    case ESC_ERR_PROTOCOL:
    case ESC_ERR_CANCELLED:
    case ESC_ERR_ARG:
    case ESC_ERR_INTERNAL:
    case ESC_ERR_NETWORK:
        return true;
    default:
        return false;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tps_op_result res;
    if (size < 1)
        return 0;
    uint8_t s = data[0];
    int op = (s & 7) % 5 + 1;
    struct tps_op_req req = {.op = op,
                             .url = "http://127.0.0.1:1/tps/tps",
                             .token_type = "userKey",
                             .atr_hex = "3BFF",
                             .trust = &loopback,
                             .msg_timeout_ms = 1000,
                             .user = (s & 8) ? "jsmith" : NULL,
                             .password = (s & 8) ? FUZZ_PASSWORD : NULL,
                             .new_pin = (s & 16) ? FUZZ_PIN : NULL};
    struct tps_op_ui ui = {.ask = ask, .progress = progress};
    struct tps_card_io card = {.transmit = transmit};

    user_cancels = s & 32;
    card_fails = s & 64;
    end_ok_seen = false;
    in_data = data + 1;
    in_size = size - 1;
    esc_err rc = tps_op_run(&req, &ui, &card, &res);

    if (rc != res.err || !known(rc))
        abort();
    if (rc == ESC_OK && (!res.end_seen || !end_ok_seen || res.end_result != 0))
        abort(); /* success only after END_OP said so */
    size_t sl = strnlen(res.sentence, sizeof res.sentence);
    if (sl == 0 || sl == sizeof res.sentence)
        abort(); /* always one sentence */
    if (strstr(res.sentence, FUZZ_PASSWORD) || strstr(res.sentence, FUZZ_PIN))
        abort(); /* a secret never reaches what the user or a log sees */
    return 0;
}
