/* http_resp: the client side of one HTTP/1.x response, read incrementally (the TPS
 * conversation's answer, tps_conv.c). All input is hostile: every length is checked, nothing
 * is allocated, fuzzed by tests/fuzz/fuzz_http_resp.c.
 *
 * The head: the status line "HTTP/1.<d> <3 digits>[ reason]", header lines ending in CRLF or
 * LF, at most HTTP_RESP_HEAD_MAX bytes. Interim 1xx answers (100 Continue) are skipped, 101
 * excepted (a status like any other). Folded header lines are refused.
 * The body, as RFC 9112 §6.3 frames it: Transfer-Encoding whose last coding is chunked ->
 * chunked; another Transfer-Encoding -> until the close; else Content-Length (digits only,
 * repeated values must agree); else until the close. Chunk sizes: up to 15 hex digits,
 * extensions skipped (up to HTTP_RESP_LINE_MAX bytes), trailers skipped, CRLF or LF. */
#ifndef ESC_HTTP_RESP_H
#define ESC_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_RESP_HEAD_MAX 16384 /* status line and headers, blank line included */
#define HTTP_RESP_LINE_MAX 4096  /* a chunk-size line's extensions, a trailer line */

enum http_resp_body {
    HTTP_BODY_CHUNKED,
    HTTP_BODY_LENGTH,
    HTTP_BODY_CLOSE, /* ends with the connection */
};

struct http_resp {
    /* the head */
    char head[HTTP_RESP_HEAD_MAX];
    size_t hlen;
    bool head_done;
    int status;
    enum http_resp_body body;
    /* the body */
    int cst;                 /* chunked decoder state (http_resp.c) */
    unsigned long long left; /* bytes left in this chunk, or of Content-Length */
    unsigned digits;         /* hex digits of the size line */
    size_t line;             /* bytes of the extension or trailer line being skipped */
    bool done;               /* the body is complete (last chunk and trailers, or the length) */
    bool broken;             /* a framing error was seen: every later call fails */
};

/* Body bytes as they arrive, cut anywhere. Non-zero stops http_resp_body with that value. */
typedef int (*http_resp_cb)(void *ctx, const char *data, size_t len);

void http_resp_init(struct http_resp *r);

/* Feed head bytes. Returns how many of `len` bytes were the head's (the rest, if any, is the
 * body's: feed it to http_resp_body) once r->head_done, or `len` while more is needed; -1 if
 * the head is malformed or too long. */
long http_resp_head(struct http_resp *r, const char *buf, size_t len);

/* Feed body bytes (after the head). 0: consumed (bytes after the end of the body are
 * ignored); -1: a framing error (the response stays broken); or the callback's value. */
int http_resp_body(struct http_resp *r, const char *buf, size_t len, http_resp_cb cb, void *ctx);

#endif
