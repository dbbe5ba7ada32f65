/* fuzz_tps_msg: the TPS message codec on hostile bytes: the re-framer with arbitrary cuts,
 * the decoder on each framed payload, the nested k=v decoder on every value, and an
 * encode/decode round trip of what was decoded. */
#include "tps_msg.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static struct tps_msg m, nested, back;
static struct tps_enc e;

static int on_payload(void *ctx, const char *p, size_t n)
{
    (void)ctx;
    if (tps_msg_decode(&m, p, n) == 0) {
        for (size_t i = 0; i < m.n; i++)
            (void)tps_kvlist_decode(&nested, m.f[i].val, m.f[i].len);
        (void)tps_msg_str(&m, "pdu_data");
        long v;
        (void)tps_msg_long(&m, "current_state", 0, 100, &v);
        /* re-encode every field as bytes and decode again: values must survive */
        tps_enc_init(&e, m.type);
        for (size_t i = 0; i < m.n; i++)
            if (strcmp(m.f[i].key, "msg_type") != 0)
                tps_enc_bytes(&e, m.f[i].key, m.f[i].val, m.f[i].len);
        size_t len;
        const char *s = tps_enc_payload(&e, &len);
        if (s && tps_msg_decode(&back, s, len) == 0) {
            for (size_t i = 0; i < m.n; i++) {
                if (strcmp(m.f[i].key, "msg_type") == 0)
                    continue;
                const struct tps_field *f = tps_msg_get(&back, m.f[i].key);
                if (!f)
                    __builtin_trap();
                /* the first occurrence of a repeated key is what get() returns in both */
                const struct tps_field *g = tps_msg_get(&m, m.f[i].key);
                if (f->len != g->len || memcmp(f->val, g->val, f->len) != 0)
                    __builtin_trap();
            }
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tps_framer f;
    size_t cut = size ? data[0] % (size + 1) : 0;
    /* the whole input as one payload */
    (void)on_payload(NULL, (const char *)data, size);
    /* and as a stream cut in two places */
    tps_framer_init(&f);
    if (tps_framer_push(&f, data, cut, on_payload, NULL) == 0)
        (void)tps_framer_push(&f, data + cut, size - cut, on_payload, NULL);
    (void)tps_status_sentence((int)size - 5);
    return 0;
}
