/* tps_conv: one TPS conversation (reference/tps-protocol.md §1).
 *
 * One POST, chunked both ways, held open for the whole operation, strict lock-step: we send the
 * first message, then for every message the TPS sends the handler produces exactly one answer,
 * until the handler says the conversation is over (END_OP). libcurl opens the connection and
 * does TLS (tps_conv_io.h); the HTTP is ours: the request head and one chunk per message are
 * written here, the answer is read by http_resp.h (a 200 with a chunked body, a Content-Length
 * or one until the close). Incoming bytes are re-framed by s=<len> whatever the chunking. A
 * deadline runs per message while we wait for the TPS, and a clean close by the TPS is seen at
 * once (the read that meets it). One TCP connection per operation. */
#ifndef ESC_TPS_CONV_H
#define ESC_TPS_CONV_H

#include <stdbool.h>
#include <stddef.h>

#include "esc_err.h"
#include "op_stop.h"
#include "tps_msg.h"

#include <curl/curl.h>

/* What the handler decides about one incoming message. */
enum tps_conv_next {
    TPS_CONV_REPLY = 0, /* `reply` holds the answer: send it and wait for the next message */
    TPS_CONV_DONE,      /* the conversation is over (END_OP): end the upload */
    TPS_CONV_FAIL,      /* abort the conversation (tps_conv_run: ESC_ERR_CANCELLED) */
};

/* Called once per incoming message. `reply` is initialised by the handler (tps_enc_init). */
typedef enum tps_conv_next (*tps_conv_handler)(void *ctx, const struct tps_msg *in,
                                               struct tps_enc *reply);

struct tps_conv_opts {
    const char *url;         /* https://host:port/tps/tps */
    const char *ca_file;     /* extra trust anchors added to the system store, or NULL */
    long msg_timeout_ms;     /* per-message deadline (tps_message_timeout; ESC default 90 s) */
    long connect_timeout_ms; /* 0: libcurl's default */
    struct op_stop *stop;    /* looked at every 100 ms at least while waiting, or NULL */
    unsigned long max_msgs;  /* messages accepted from the TPS; 0 = no cap */
};

struct tps_conv_stats {
    unsigned long msgs_in, msgs_out;   /* messages received / sent */
    unsigned long bytes_in, bytes_out; /* message bytes, framing included, HTTP chunking not */
    long connects;                     /* TCP connections libcurl opened (CURLINFO_NUM_CONNECTS) */
    double wall_s;                     /* whole conversation */
};

/* Run one conversation: send `first` (framed by tps_enc_frame), then drive the handler.
 * `err` (optional) receives one sentence describing a failure. ESC_OK: the handler ended the
 * conversation (END_OP seen); else ESC_ERR_NETWORK (no connection, or the TPS closed it before
 * END_OP), ESC_ERR_TLS (handshake or certificate verification), ESC_ERR_TPS_TIMEOUT (no
 * answer within the per-message deadline), ESC_ERR_SERVER (an HTTP status other than 200),
 * ESC_ERR_PROTOCOL (a malformed HTTP answer, message or framing, or more than opts->max_msgs
 * messages), ESC_ERR_CANCELLED (the handler gave up: its own reason is its own),
 * ESC_ERR_TIMEOUT or ESC_ERR_CANCELLED (opts->stop said so: past the overall deadline, or
 * cancelled),
 * ESC_ERR_INTERNAL (out of memory, libcurl setup). */
esc_err tps_conv_run(const struct tps_conv_opts *opts, struct tps_enc *first,
                     tps_conv_handler handler, void *ctx, struct tps_conv_stats *stats, char *err,
                     size_t errlen);

/* TLS verification for a libcurl handle: peer and host name verified against the system
 * store plus `ca_file` (when set). -1 (err set) if ca_file cannot be read. Shared with phone
 * home. */
int tps_tls_setup(CURL *h, const char *ca_file, char *err, size_t errlen);

#endif
