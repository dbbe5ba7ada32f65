/* test_http_resp: the TPS answer's HTTP parser: what Tomcat and the reference TPS send (a 200
 * with a chunked body, one message per chunk), an interim 100 Continue, error answers with a
 * length or until the close, and the malformed heads and bodies it must refuse. Every answer
 * is fed whole and one byte at a time: the outcome must not depend on the cuts. */
#include "check.h"
#include "engine/http_resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct body {
    char b[4096];
    size_t n;
    int stop_after; /* stop (return 7) once this many bytes came; 0: never */
};

static int collect(void *ctx, const char *d, size_t len)
{
    struct body *o = ctx;
    if (o->n + len > sizeof o->b)
        return -2;
    memcpy(o->b + o->n, d, len);
    o->n += len;
    return o->stop_after && o->n >= (size_t)o->stop_after ? 7 : 0;
}

/* Feed s in pieces of `step` bytes (0: whole); the first non-zero result, else 0. */
static int feed(struct http_resp *r, struct body *o, const char *s, size_t step)
{
    size_t size = strlen(s);
    http_resp_init(r);
    o->n = 0;
    for (size_t off = 0; off < size;) {
        size_t len = step && size - off > step ? step : size - off;
        const char *p = s + off;
        off += len;
        if (!r->head_done) {
            long k = http_resp_head(r, p, len);
            if (k < 0)
                return -1;
            if (!r->head_done)
                continue;
            p += k;
            len -= (size_t)k;
        }
        int rc = http_resp_body(r, p, len, collect, o);
        if (rc)
            return rc;
    }
    return 0;
}

static int disagree; /* runs whose whole and byte-by-byte outcomes differed */

/* Both ways: whole and byte by byte; returns the whole run's result, counts disagreements
 * (the body's pieces differ when the callback stops it part way). */
static int both(struct http_resp *r, struct body *o, const char *s)
{
    static struct http_resp r1;
    static struct body o1;
    o1.stop_after = o->stop_after;
    int rc1 = feed(&r1, &o1, s, 1);
    int rc = feed(r, o, s, 0);
    if (rc != rc1 || r->head_done != r1.head_done || r->done != r1.done || r->status != r1.status ||
        (!o->stop_after && (o->n != o1.n || memcmp(o->b, o1.b, o->n) != 0))) {
        printf("# whole and byte by byte differ: %.40s\n", s);
        disagree++;
    }
    return rc;
}

static struct http_resp r;
static struct body o;

static void test_tomcat_chunked(void)
{
    const char *msg = "s=40&msg_type=14&current_state=10&next_task_name=x";
    char s[512];
    snprintf(s, sizeof s,
             "HTTP/1.1 200 OK\r\nServer: Apache-Coyote/1.1\r\nTransfer-Encoding: chunked\r\n"
             "Date: Thu, 03 Dec 2026 17:00:00 GMT\r\n\r\n%zx\r\n%s\r\n%zX\r\n%s\r\n",
             strlen(msg), msg, strlen(msg), msg);
    memset(&o, 0, sizeof o);
    EXPECT_EQ(both(&r, &o, s), 0);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, HTTP_BODY_CHUNKED);
    EXPECT_EQ(o.n, 2 * strlen(msg)); /* both messages, the chunk framing gone */
    EXPECT_MEM(o.b, msg, strlen(msg));
    EXPECT(!r.done); /* the conversation goes on */
    /* the last chunk, a trailer, the end; bytes after it are not body */
    EXPECT_EQ(http_resp_body(&r, "0\r\nX-T: 1\r\n\r\nHTTP/1.1", 22, collect, &o), 0);
    EXPECT(r.done);
    EXPECT_EQ(o.n, 2 * strlen(msg));
}

static void test_continue_then_length(void)
{
    memset(&o, 0, sizeof o);
    EXPECT_EQ(both(&r, &o,
                   "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                   "content-length: 5\r\n\r\nhello, and more"),
              0);
    EXPECT_EQ(r.status, 200);
    EXPECT(r.done);
    EXPECT_EQ(o.n, 5u);
    EXPECT_MEM(o.b, "hello", 5);
}

static void test_error_answers(void)
{
    /* the reference TPS's 503 (a length), an old server's until the close, with bare LFs */
    memset(&o, 0, sizeof o);
    EXPECT_EQ(both(&r, &o,
                   "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                   "Content-Length: 24\r\nConnection: close\r\n\r\n503 Service Unavailable\n"),
              0);
    EXPECT_EQ(r.status, 503);
    memset(&o, 0, sizeof o);
    EXPECT_EQ(both(&r, &o, "HTTP/1.0 404 Not Found\nX: y\n\nnot here"), 0);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, HTTP_BODY_CLOSE);
    EXPECT_EQ(o.n, 8u);
    /* 101 is no interim answer to skip */
    EXPECT_EQ(both(&r, &o, "HTTP/1.1 101 Switching\r\n\r\n"), 0);
    EXPECT_EQ(r.status, 101);
}

static void test_framing_rules(void)
{
    /* Transfer-Encoding wins over Content-Length; a last coding other than chunked: the close */
    memset(&o, 0, sizeof o);
    EXPECT_EQ(both(&r, &o,
                   "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: gzip , Chunked\r\n"
                   "\r\n5 ; a=b\r\nhello\r\n"),
              0);
    EXPECT_EQ(r.body, HTTP_BODY_CHUNKED);
    EXPECT_EQ(o.n, 5u);
    EXPECT_EQ(both(&r, &o, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nab"), 0);
    EXPECT_EQ(r.body, HTTP_BODY_CLOSE);
    /* the callback's own value stops the body */
    memset(&o, 0, sizeof o);
    o.stop_after = 2;
    EXPECT_EQ(both(&r, &o, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n"),
              7);
}

static void test_malformed(void)
{
    static const char *bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\rX",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\rX",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&o, 0, sizeof o);
        int rc = both(&r, &o, bad[i]);
        if (rc != -1)
            printf("# not refused: %s\n", bad[i]);
        EXPECT_EQ(rc, -1);
        /* refused once, refused for good */
        EXPECT(r.broken);
        EXPECT(http_resp_head(&r, "x", 1) == -1 || http_resp_body(&r, "x", 1, collect, &o) == -1);
    }
    /* a head longer than HTTP_RESP_HEAD_MAX, or an endless chunk extension */
    size_t n = HTTP_RESP_HEAD_MAX + 64;
    char *big = malloc(n + 1);
    EXPECT(big != NULL);
    if (!big)
        return;
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
    memset(big + 20, 'a', n - 20);
    big[n] = 0;
    EXPECT_EQ(both(&r, &o, big), -1);
    int k = snprintf(big, n, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;");
    memset(big + k, 'e', n - (size_t)k);
    big[n] = 0;
    EXPECT_EQ(both(&r, &o, big), -1);
    free(big);
}

/* every answer above gave the same outcome fed whole and one byte at a time */
static void test_cuts_agree(void)
{
    EXPECT_EQ(disagree, 0);
}

int main(void)
{
    RUN(test_tomcat_chunked);
    RUN(test_continue_then_length);
    RUN(test_error_answers);
    RUN(test_framing_rules);
    RUN(test_malformed);
    RUN(test_cuts_agree);
    return check_status();
}
