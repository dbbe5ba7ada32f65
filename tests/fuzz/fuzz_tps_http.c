/* fuzz_tps_http: the reference TPS's HTTP request-head parser and chunked-body decoder
 * (tests/tps/tpsd_http.c) on hostile bytes, cut at a point chosen by the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tpsd_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(void *ctx, const char *d, size_t n)
{
    size_t *total = ctx;
    if (n && d[0] == '\0' && d[n - 1] == '\0')
        return 0;
    *total += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tpsd_http_req r;
    struct tpsd_chunk_dec d;
    const char *s = (const char *)data;
    size_t total = 0, cut;
    long head;
    char val[64];
    if (size == 0)
        return 0;
    head = tpsd_http_head_len(s, size);
    if (head > 0 && tpsd_http_parse(&r, s, (size_t)head) == 0) {
        tpsd_http_query_get(r.query, "cuid", val, sizeof(val));
        s += head;
        size -= (size_t)head;
    }
    cut = size ? data[0] % (size + 1) : 0;
    tpsd_chunk_init(&d);
    if (tpsd_chunk_push(&d, s, cut, sink, &total) == 0)
        tpsd_chunk_push(&d, s + cut, size - cut, sink, &total);
    return 0;
}
