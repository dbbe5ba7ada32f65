/* tpsd_http: the HTTP/1.1 pieces the reference TPS needs: a request-head parser, an
 * incremental chunked-body decoder and the chunk writer. Pure functions over buffers; all input
 * is hostile (fuzzed by tests/fuzz/fuzz_tps_http.c). */
#ifndef TPSD_HTTP_H
#define TPSD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define TPSD_HTTP_HEAD_MAX 8192 /* request line + headers */

struct tpsd_http_req {
    char method[16];
    char path[512];  /* without the query */
    char query[512]; /* after '?', may be empty */
    int minor;       /* HTTP/1.<minor> */
    bool chunked;    /* Transfer-Encoding is exactly "chunked" (case-insensitive) */
    bool has_te;     /* any Transfer-Encoding header */
    bool expect_100; /* Expect: 100-continue */
    bool has_length; /* Content-Length present */
    unsigned long content_length;
    bool conn_close; /* Connection: close */
};

/* Length of the head (through the blank line) if `buf` holds a complete one, 0 if more bytes
 * are needed, -1 if malformed or longer than TPSD_HTTP_HEAD_MAX. */
long tpsd_http_head_len(const char *buf, size_t len);

/* Parses a complete head of `len` bytes. 0 on success, -1 if malformed (answer 400). */
int tpsd_http_parse(struct tpsd_http_req *r, const char *buf, size_t len);

/* The value of `key` in a query string "a=1&cuid=XYZ" copied (not decoded) into out, or -1. */
int tpsd_http_query_get(const char *query, const char *key, char *out, size_t cap);

/* Incremental chunked-body decoder. Body bytes are handed to `cb` as they arrive (any cut). */
typedef int (*tpsd_chunk_cb)(void *ctx, const char *data, size_t len);

enum tpsd_chunk_state {
    CH_SIZE,
    CH_EXT,
    CH_SIZE_LF,
    CH_DATA,
    CH_DATA_CR,
    CH_DATA_LF,
    CH_TRAILER,
    CH_DONE
};

struct tpsd_chunk_dec {
    enum tpsd_chunk_state st;
    unsigned long left; /* bytes left in the current chunk */
    unsigned digits;    /* hex digits of the size line */
    unsigned line;      /* bytes of the current trailer line */
    unsigned chunks;    /* complete data chunks seen */
    bool broken;
};

void tpsd_chunk_init(struct tpsd_chunk_dec *d);
/* Feeds `len` bytes. Returns 0 when consumed, -1 on a framing error (decoder stays broken), or
 * the callback's non-zero value. Bytes after the terminating chunk are ignored. */
int tpsd_chunk_push(struct tpsd_chunk_dec *d, const char *buf, size_t len, tpsd_chunk_cb cb,
                    void *ctx);
/* The terminating 0-size chunk and its trailer were seen. */
bool tpsd_chunk_done(const struct tpsd_chunk_dec *d);

/* Writes "<HEX>\r\n<data>\r\n" into out; returns its length, or 0 if cap is too small. */
size_t tpsd_chunk_encode(const void *data, size_t len, char *out, size_t cap);

#endif
