/* tpsd_conv: the server side of one TPS conversation (tps-protocol.md §1.2-§1.3).
 * Incoming bytes are de-chunked and re-framed by s=<len> (not by chunk boundaries, as Dogtag's
 * TPSConnection.read does); every outgoing message is one chunk written with one send. The
 * fault knobs (tpsd_faults.h) act here, on the numbered server messages. */
#ifndef TPSD_CONV_H
#define TPSD_CONV_H

#include <stdbool.h>
#include <stddef.h>

#include "tps_msg.h"
#include "tpsd_conn.h"
#include "tpsd_faults.h"
#include "tpsd_http.h"

#define TPSD_CONV_QUEUE 4 /* client messages received but not yet consumed */

struct tpsd_conv {
    struct tpsd_conn *conn;
    struct tpsd_chunk_dec dec;
    struct tps_framer framer;
    char queue[TPSD_CONV_QUEUE][TPS_MSG_MAX + 1];
    size_t queue_len[TPSD_CONV_QUEUE];
    unsigned q_head, q_count;
    unsigned sent;     /* server messages sent (faults count these, from 1) */
    unsigned received; /* client messages taken */
    struct tpsd_faults faults;
    int timeout_ms;    /* per-message deadline while waiting for the client */
    bool failed;       /* I/O, framing or deadline failure: nothing more can be sent */
    bool faulted;      /* a fault knob ended the conversation */
    bool client_ended; /* the client sent the terminating 0-size chunk */
};

/* `initial`/`initial_len`: body bytes that arrived together with the request head. */
void tpsd_conv_init(struct tpsd_conv *c, struct tpsd_conn *conn, const struct tpsd_faults *f,
                    int timeout_ms, const char *initial, size_t initial_len);

/* Sends one message as one chunk, applying the fault knobs. 0, or -1 (conversation over). */
int tpsd_conv_send(struct tpsd_conv *c, struct tps_enc *e);

/* Waits for the next client message (deadline timeout_ms) and decodes it into m.
 * 0, or -1 on timeout, close, framing error or an undecodable message. */
int tpsd_conv_recv(struct tpsd_conv *c, struct tps_msg *m);

/* Send `e`, then receive the answer, which must be of type `want`. 0 or -1. */
int tpsd_conv_exchange(struct tpsd_conv *c, struct tps_enc *e, struct tps_msg *m, int want);

/* After END_OP: ends our chunked body (0-size chunk) and reads the client's remainder for a
 * short while so that closing does not reset a connection with unread data. */
void tpsd_conv_finish(struct tpsd_conv *c);

#endif
