/* z0.c: the combined CoolKey PKCS#11 object (coolkey-card.md §4.4), as Dogtag writes it. */
#include "z0.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* PKCS#11 attribute types used in the records. */
#define CKA_LABEL    0x03
#define CKA_VALUE    0x11
#define CKA_KEY_TYPE 0x100

/* fixedAttrs bits (§4.4): bits 0-3 CKA_ID, 4-6 CKA_CLASS, then booleans. */
#define FA_CLASS(c)       ((uint32_t)(c) << 4)
#define FA_TOKEN          (1u << 7)
#define FA_PRIVATE        (1u << 8)
#define FA_ENCRYPT        (1u << 12)
#define FA_DECRYPT        (1u << 13)
#define FA_WRAP           (1u << 14)
#define FA_UNWRAP         (1u << 15)
#define FA_SIGN           (1u << 16)
#define FA_SIGN_RECOVER   (1u << 17)
#define FA_VERIFY         (1u << 18)
#define FA_VERIFY_RECOVER (1u << 19)
#define FA_SENSITIVE      (1u << 20)

#define DT_STRING  0
#define DT_INTEGER 1

struct buf {
    uint8_t *p;
    size_t len, cap;
    int failed;
};

static void put(struct buf *b, const void *d, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 1024) + n;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void put8(struct buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put16(struct buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 2);
}

static void put32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}

static void attr_string(struct buf *b, uint32_t type, const void *v, size_t n)
{
    put32(b, type);
    put8(b, DT_STRING);
    put16(b, (uint16_t)n);
    put(b, v, n);
}

static void attr_integer(struct buf *b, uint32_t type, uint32_t v)
{
    put32(b, type);
    put8(b, DT_INTEGER);
    put32(b, v);
}

static void record_header(struct buf *b, char cls, unsigned index, uint32_t fixed, uint16_t nattr)
{
    uint8_t id[4] = {(uint8_t)cls, (uint8_t)('0' + index), 0, 0};
    put(b, id, 4);
    put32(b, fixed);
    put16(b, nattr);
}

/* One certificate: cN, public k(2N+1), private k(2N); the cert first, as coolkey needs. */
static void add_cert(struct buf *b, const struct z0_cert *c)
{
    const uint32_t id = c->cert_index & 0x0f;
    const size_t ll = strlen(c->label);
    const int sig = c->usage == Z0_SIGNING;

    record_header(b, 'c', c->cert_index, FA_CLASS(1) | id | FA_TOKEN, 2);
    attr_string(b, CKA_LABEL, c->label, ll);
    attr_string(b, CKA_VALUE, c->der, c->der_len);

    uint32_t pub =
        FA_CLASS(2) | id | FA_TOKEN | (sig ? FA_VERIFY | FA_VERIFY_RECOVER : FA_ENCRYPT | FA_WRAP);
    record_header(b, 'k', 2 * c->cert_index + 1, pub, 2);
    attr_string(b, CKA_LABEL, c->label, ll);
    attr_integer(b, CKA_KEY_TYPE, 0 /* CKK_RSA */);

    uint32_t priv = FA_CLASS(3) | id | FA_TOKEN | FA_PRIVATE | FA_SENSITIVE |
                    (sig ? FA_SIGN | FA_SIGN_RECOVER : FA_DECRYPT | FA_UNWRAP);
    record_header(b, 'k', 2 * c->cert_index, priv, 2);
    attr_string(b, CKA_LABEL, c->label, ll);
    attr_integer(b, CKA_KEY_TYPE, 0);
}

uint8_t *z0_build(const uint8_t cuid[10], uint16_t object_version, const char *token_name,
                  const struct z0_cert *certs, size_t n, int compress, size_t *out_len)
{
    struct buf data = {0}, out = {0};
    uint8_t *z = NULL;
    if (!cuid || !token_name || !out_len || (n && !certs))
        return NULL;
    size_t tl = strlen(token_name);
    if (tl > 255 || n > 5) /* cN..: N is one digit and private keys are k(2N) */
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!certs[i].der || !certs[i].label || certs[i].cert_index > 4 ||
            certs[i].der_len > 0xffff || strlen(certs[i].label) > 0xffff)
            return NULL;
        for (size_t j = 0; j < i; j++) /* object IDs must be unique (OpenSC rejects the card) */
            if (certs[j].cert_index == certs[i].cert_index)
                return NULL;
    }

    put16(&data, (uint16_t)(5 + tl)); /* objectOffset */
    put16(&data, (uint16_t)(3 * n));  /* objectCount: exact, OpenSC walks all of them */
    put8(&data, (uint8_t)tl);
    put(&data, token_name, tl);
    for (size_t i = 0; i < n; i++)
        add_cert(&data, &certs[i]);
    while (!data.failed && data.len < 260) /* OpenSC wants >= 260 decompressed bytes */
        put8(&data, 0);
    if (data.failed)
        goto out;

    const uint8_t *stored = data.p;
    size_t stored_len = data.len;
    if (compress) {
        uLongf zl = compressBound(data.len);
        z = malloc(zl);
        if (!z || compress2(z, &zl, data.p, data.len, Z_BEST_COMPRESSION) != Z_OK)
            goto out;
        /* coolkey reads compSize - (255 - compOffset) bytes after its first 255 in unsigned
         * arithmetic (§4.2): keep compOffset + compSize >= 255 by storing a short stream
         * uncompressed inside zlib (stored blocks) rather than padding the object. */
        if (20 + zl < 255) {
            zl = compressBound(data.len);
            if (compress2(z, &zl, data.p, data.len, Z_NO_COMPRESSION) != Z_OK)
                goto out;
        }
        stored = z;
        stored_len = zl;
    }
    if (stored_len > 0xffff)
        goto out;
    put16(&out, 0x0100);
    put16(&out, object_version);
    put(&out, cuid, 10);
    put16(&out, compress ? 1 : 0);
    put16(&out, (uint16_t)stored_len);
    put16(&out, 20);
    put(&out, stored, stored_len);
    while (!out.failed && out.len < 255) /* coolkey's first read is 255 bytes */
        put8(&out, 0);
    if (out.failed)
        goto out;
    free(z);
    free(data.p);
    *out_len = out.len;
    return out.p;
out:
    free(z);
    free(data.p);
    free(out.p);
    return NULL;
}
