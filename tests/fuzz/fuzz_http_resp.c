/* fuzz_http_resp: the TPS answer's HTTP parser (agent/engine/http_resp.c) on hostile bytes.
 * The input is fed whole and, again, cut at every byte: both runs must agree on the outcome
 * (status, body framing, the body bytes, the end of the body), and the body handed out is
 * never more than what came in. */
#include "engine/http_resp.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct out {
    char body[16384];
    size_t n;
    int rc;
};

static int collect(void *ctx, const char *d, size_t len)
{
    struct out *o = ctx;
    size_t k = len < sizeof o->body - o->n ? len : sizeof o->body - o->n;
    memcpy(o->body + o->n, d, k);
    o->n += k;
    return 0;
}

/* Feed data in pieces of `step` bytes (0: whole). */
static void run(struct http_resp *r, struct out *o, const uint8_t *data, size_t size, size_t step)
{
    http_resp_init(r);
    o->n = 0;
    o->rc = 0;
    for (size_t off = 0; off < size && o->rc == 0;) {
        size_t len = step && size - off > step ? step : size - off;
        const char *p = (const char *)data + off;
        off += len;
        if (!r->head_done) {
            long k = http_resp_head(r, p, len);
            if (k < 0) {
                o->rc = -1;
                break;
            }
            if ((size_t)k > len)
                __builtin_trap();
            if (!r->head_done)
                continue;
            p += k;
            len -= (size_t)k;
        }
        o->rc = http_resp_body(r, p, len, collect, o);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct http_resp a, b;
    static struct out oa, ob;
    run(&a, &oa, data, size, 0);
    run(&b, &ob, data, size, 1);
    if (oa.n > size || oa.rc != ob.rc || a.head_done != b.head_done)
        __builtin_trap();
    if (a.head_done && (a.status != b.status || a.body != b.body || a.done != b.done ||
                        oa.n != ob.n || memcmp(oa.body, ob.body, oa.n) != 0))
        __builtin_trap();
    if (a.head_done && (a.status < 100 || a.status > 999))
        __builtin_trap();
    return 0;
}
