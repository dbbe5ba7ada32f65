/* test_tps_http: the reference TPS's HTTP pieces: request heads, the chunked decoder (any cut,
 * extensions, trailers, hostile sizes), chunk encoding, query parameters. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tpsd_http.h"

static void test_head_complete(void)
{
    const char *h = "POST /tps/tps HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1A\r\n";
    struct tpsd_http_req r;
    long n = tpsd_http_head_len(h, strlen(h));
    EXPECT(n > 0 && n == (long)(strstr(h, "1A") - h));
    EXPECT_EQ(tpsd_http_parse(&r, h, (size_t)n), 0);
    EXPECT_STR(r.method, "POST");
    EXPECT_STR(r.path, "/tps/tps");
    EXPECT(r.chunked);
    EXPECT_EQ(r.minor, 1);
    EXPECT(!r.expect_100);
}

static void test_head_partial(void)
{
    const char *h = "GET /tps/phoneHome?cuid=1234 HTTP/1.1\r\nHost: x\r\n";
    EXPECT_EQ(tpsd_http_head_len(h, strlen(h)), 0);
}

static void test_head_query_and_headers(void)
{
    const char *h =
        "GET /tps/phoneHome?a=1&cuid=40906145C9040000ABCD HTTP/1.1\r\n"
        "expect:   100-continue  \r\nTRANSFER-ENCODING: gzip\r\nConnection: close\r\n\r\n";
    struct tpsd_http_req r;
    char cuid[32];
    EXPECT_EQ(tpsd_http_parse(&r, h, strlen(h)), 0);
    EXPECT_STR(r.path, "/tps/phoneHome");
    EXPECT_EQ(tpsd_http_query_get(r.query, "cuid", cuid, sizeof(cuid)), 0);
    EXPECT_STR(cuid, "40906145C9040000ABCD");
    EXPECT_EQ(tpsd_http_query_get(r.query, "nope", cuid, sizeof(cuid)), -1);
    EXPECT(r.expect_100);
    EXPECT(r.has_te && !r.chunked);
    EXPECT(r.conn_close);
}

static void test_head_malformed(void)
{
    static const char *bad[] = {
        "POST /tps/tps HTTP/2.0\r\n\r\n",
        "POST tps HTTP/1.1\r\n\r\n",
        "post /x HTTP/1.1\r\n\r\n",
        "POST /x\r\n\r\n",
        "POST /x HTTP/1.1\r\nNoColon\r\n\r\n",
        "POST /x HTTP/1.1\r\n folded\r\n\r\n",
        "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tpsd_http_req r;
        EXPECT_EQ(tpsd_http_parse(&r, bad[i], strlen(bad[i])), -1);
    }
}

static void test_head_too_long(void)
{
    char *h = malloc(TPSD_HTTP_HEAD_MAX + 10);
    EXPECT(h != NULL);
    memset(h, 'a', TPSD_HTTP_HEAD_MAX + 10);
    EXPECT_EQ(tpsd_http_head_len(h, TPSD_HTTP_HEAD_MAX + 10), -1);
    free(h);
}

struct sink {
    char buf[256];
    size_t len;
    unsigned calls;
};

static int sink_cb(void *ctx, const char *data, size_t len)
{
    struct sink *s = ctx;
    if (s->len + len > sizeof(s->buf))
        return 1;
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->calls++;
    return 0;
}

static void test_chunks_any_cut(void)
{
    const char *body = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\nGARBAGE";
    size_t len = strlen(body);
    /* every split point gives the same decoded bytes */
    for (size_t cut = 0; cut <= len; cut++) {
        struct tpsd_chunk_dec d;
        struct sink s = {.len = 0};
        tpsd_chunk_init(&d);
        EXPECT_EQ(tpsd_chunk_push(&d, body, cut, sink_cb, &s), 0);
        EXPECT_EQ(tpsd_chunk_push(&d, body + cut, len - cut, sink_cb, &s), 0);
        EXPECT(tpsd_chunk_done(&d));
        EXPECT_EQ(s.len, 12);
        EXPECT_MEM(s.buf, "hello, world", 12);
        EXPECT_EQ(d.chunks, 2);
    }
}

static void test_chunks_byte_by_byte(void)
{
    const char *body = "a\r\n0123456789\r\nA\r\nabcdefghij\r\n";
    struct tpsd_chunk_dec d;
    struct sink s = {.len = 0};
    tpsd_chunk_init(&d);
    for (size_t i = 0; i < strlen(body); i++)
        EXPECT_EQ(tpsd_chunk_push(&d, body + i, 1, sink_cb, &s), 0);
    EXPECT_EQ(s.len, 20);
    EXPECT(!tpsd_chunk_done(&d));
}

static void test_chunks_hostile(void)
{
    static const char *bad[] = {"zz\r\n", "FFFFFFFFF\r\n", "5\r\nhelloXX", "\r\n", "5\rX"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tpsd_chunk_dec d;
        struct sink s = {.len = 0};
        tpsd_chunk_init(&d);
        EXPECT_EQ(tpsd_chunk_push(&d, bad[i], strlen(bad[i]), sink_cb, &s), -1);
        /* a broken decoder stays broken */
        EXPECT_EQ(tpsd_chunk_push(&d, "0\r\n\r\n", 5, sink_cb, &s), -1);
    }
}

static void test_chunk_encode(void)
{
    char out[64];
    size_t n = tpsd_chunk_encode("s=3&abc", 7, out, sizeof(out));
    EXPECT_EQ(n, 12);
    EXPECT_MEM(out, "7\r\ns=3&abc\r\n", 12);
    EXPECT_EQ(tpsd_chunk_encode("abc", 3, out, 6), 0);
}

int main(void)
{
    RUN(test_head_complete);
    RUN(test_head_partial);
    RUN(test_head_query_and_headers);
    RUN(test_head_malformed);
    RUN(test_head_too_long);
    RUN(test_chunks_any_cut);
    RUN(test_chunks_byte_by_byte);
    RUN(test_chunks_hostile);
    RUN(test_chunk_encode);
    return check_status();
}
