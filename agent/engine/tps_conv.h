/* tps_conv: one TPS conversation over libcurl (reference/tps-protocol.md §1, libcurl-duplex.md).
 *
 * One POST, chunked both ways, held open for the whole operation, strict lock-step: we send the
 * first message, then for every message the TPS sends the handler produces exactly one answer,
 * until the handler says the conversation is over (END_OP). Incoming bytes are re-framed by
 * s=<len> whatever the chunking. A deadline runs per message while we wait for the TPS, and a
 * clean close by the TPS is detected at once (libcurl would hang, libcurl-duplex.md §3). */
#ifndef ESC_TPS_CONV_H
#define ESC_TPS_CONV_H

#include <stdbool.h>
#include <stddef.h>

#include "op_stop.h"
#include "tps_msg.h"

#include <curl/curl.h>

enum tps_conv_rc {
    TPS_CONV_OK = 0,   /* the handler ended the conversation (END_OP seen) */
    TPS_CONV_CONNECT,  /* could not connect (refused, DNS, unreachable) */
    TPS_CONV_TLS,      /* TLS handshake or certificate verification failed */
    TPS_CONV_TIMEOUT,  /* no answer within the per-message deadline */
    TPS_CONV_CLOSED,   /* the TPS closed the connection before END_OP */
    TPS_CONV_HTTP,     /* the TPS answered with an HTTP status other than 200 */
    TPS_CONV_PROTOCOL, /* a malformed message or framing error */
    TPS_CONV_ABORTED,  /* the handler gave up (card error, user cancelled, ...) */
    TPS_CONV_INTERNAL, /* out of memory, libcurl setup failure */
    TPS_CONV_STOPPED,  /* opts->stop said so: cancelled or past the overall deadline */
    TPS_CONV_TOO_MANY, /* the TPS sent more than opts->max_msgs messages */
};

/* What the handler decides about one incoming message. */
enum tps_conv_next {
    TPS_CONV_REPLY = 0, /* `reply` holds the answer: send it and wait for the next message */
    TPS_CONV_DONE,      /* the conversation is over (END_OP): end the upload */
    TPS_CONV_FAIL,      /* abort the conversation (TPS_CONV_ABORTED) */
};

/* Called once per incoming message. `reply` is initialised by the handler (tps_enc_init). */
typedef enum tps_conv_next (*tps_conv_handler)(void *ctx, const struct tps_msg *in,
                                               struct tps_enc *reply);

struct tps_conv_opts {
    const char *url;         /* https://host:port/tps/tps */
    const char *ca_file;     /* extra trust anchors added to the system store, or NULL */
    long msg_timeout_ms;     /* per-message deadline (tps_message_timeout; ESC default 90 s) */
    long connect_timeout_ms; /* 0: libcurl's default */
    struct op_stop *stop;    /* looked at whenever libcurl returns (<= 100 ms), or NULL */
    unsigned long max_msgs;  /* messages accepted from the TPS; 0 = no cap */
};

struct tps_conv_stats {
    unsigned long msgs_in, msgs_out;   /* messages received / sent */
    unsigned long bytes_in, bytes_out; /* message bytes, framing included, HTTP chunking not */
    long connects;                     /* TCP connections libcurl opened (CURLINFO_NUM_CONNECTS) */
    double wall_s;                     /* whole conversation */
};

/* Run one conversation: send `first` (framed by tps_enc_frame), then drive the handler.
 * `err` (optional) receives one sentence describing a failure. Returns a tps_conv_rc. */
int tps_conv_run(const struct tps_conv_opts *opts, struct tps_enc *first, tps_conv_handler handler,
                 void *ctx, struct tps_conv_stats *stats, char *err, size_t errlen);

/* One sentence for a tps_conv_rc. */
const char *tps_conv_strerror(int rc);

/* TLS verification for a libcurl handle: peer and host name verified against the system
 * store plus `ca_file` (when set). -1 (err set) if ca_file cannot be read. Shared with phone
 * home. */
int tps_tls_setup(CURL *h, const char *ca_file, char *err, size_t errlen);

#endif
