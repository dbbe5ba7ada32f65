/* tpsd_client: the client side of a TPS conversation, for tests: tps-client (PC/SC card) and
 * the unit tests (a virtual card in-process) both run it. One chunked POST, BEGIN_OP with
 * extensions, then one answer per server message - TOKEN_PDU through the `card` callback,
 * LOGIN / EXTENDED_LOGIN, NEW_PIN, STATUS_UPDATE - until END_OP; every message one chunk (or
 * cut into `split`-byte chunks), incoming bytes re-framed by s=<len>. */
#ifndef TPSD_CLIENT_H
#define TPSD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/ssl.h>

/* Answers one APDU: writes data || SW to resp (cap >= 258) and its length. 0, or -1. */
typedef int (*tpsd_client_card_fn)(void *ctx, const uint8_t *apdu, size_t len, uint8_t *resp,
                                   size_t *rlen);

struct tpsd_client_opts {
    int op;           /* BEGIN_OP operation */
    const char *type; /* tokenType extension, or NULL */
    const char *user, *password, *new_pin;
    bool ext_login, status_update;
    size_t split;   /* 0: one chunk per message */
    int timeout_ms; /* per server message */
    FILE *trace;    /* one line per server message, or NULL */
    tpsd_client_card_fn card;
    void *card_ctx;
};

struct tpsd_client_result {
    int http_status;
    bool end_op; /* END_OP received */
    int operation, result, message;
    unsigned messages, apdus;
    int progress[64]; /* STATUS_UPDATE current_state values */
    size_t n_progress;
    bool login, ext_login, new_pin;
    long pin_min, pin_max;
    char error[160]; /* transport error, when !end_op */
};

/* Runs the conversation on a connected socket (`ssl` non-NULL for TLS). `host` goes into the
 * Host header, `path` is the request target. 0 when END_OP arrived, -1 otherwise. */
int tpsd_client_run(int fd, SSL *ssl, const char *host, const char *path,
                    const struct tpsd_client_opts *o, struct tpsd_client_result *r);

#endif
