/* vc_crypt.c: COMPUTE CRYPT (coolkey-card.md §2.3; CardEdge CryptInit and
 * EnDeCryptProcessFinal): raw RSA (mode 00, no padding) with directions 03 "encrypt" (with a
 * private key: the signature operation coolkey uses) and 04 decrypt, data in the APDU
 * (location 01) or in the IO buffer (location 02), one-step or init + final. */
#include "vc_card.h"

#include <string.h>

#include <openssl/rsa.h>

#define MODE_RSA_NOPAD 0x00
#define MODE_RSA_PKCS1 0x01
#define DIR_SIGN       1
#define DIR_VERIFY     2
#define DIR_ENCRYPT    3
#define DIR_DECRYPT    4
#define LOC_APDU       1
#define LOC_OBJECT     2

/* m^e or m^d mod n without padding; in and out are modulus-sized. */
static bool rsa_raw(const struct vc_key *k, const uint8_t *in, size_t len, uint8_t *out)
{
    EVP_PKEY_CTX *x = EVP_PKEY_CTX_new(k->pkey, NULL);
    size_t ol = len;
    bool ok = false, priv = k->type == VC_KEY_RSA_PRIVATE_CRT;
    if (!x)
        return false;
    if (priv)
        ok = EVP_PKEY_decrypt_init(x) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(x, RSA_NO_PADDING) == 1 &&
             EVP_PKEY_decrypt(x, out, &ol, in, len) == 1;
    else
        ok = EVP_PKEY_encrypt_init(x) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(x, RSA_NO_PADDING) == 1 &&
             EVP_PKEY_encrypt(x, out, &ol, in, len) == 1;
    EVP_PKEY_CTX_free(x);
    return ok && ol == len;
}

static uint16_t crypt_init(struct vc_card *c, unsigned key, const uint8_t *d, size_t n)
{
    if (n < 3)
        return SW_WRONG_LENGTH;
    if (d[0] == MODE_RSA_PKCS1)
        return SW_MODE_UNSUPPORTED;
    if (d[0] != MODE_RSA_NOPAD)
        return SW_MODE_INVALID;
    if (d[1] == DIR_SIGN || d[1] == DIR_VERIFY)
        return SW_DIR_UNSUPPORTED;
    if (d[1] != DIR_ENCRYPT && d[1] != DIR_DECRYPT)
        return SW_DIR_INVALID;
    c->ciph_dir[key] = d[1];
    return SW_OK;
}

/* data = location [len(2) data] */
static uint16_t crypt_final(struct vc_card *c, unsigned key, const uint8_t *d, size_t n,
                            bool process, struct vc_resp *r)
{
    const struct vc_key *k = &c->keys[key];
    const uint8_t *src;
    size_t avail;
    uint8_t out[VC_MAX_RSA_BITS / 8];
    if (c->ciph_dir[key] == 0)
        return SW_BAD_P1; /* no Init for this key */
    if (n < 1)
        return SW_WRONG_LENGTH;
    if (d[0] == LOC_APDU) {
        src = d + 1;
        avail = n - 1;
    } else if (d[0] == LOC_OBJECT) {
        src = c->iobuf;
        avail = c->iobuf_size;
    } else {
        return SW_LOC_INVALID;
    }
    if (avail < 2)
        return SW_WRONG_LENGTH;
    size_t size = (size_t)(src[0] << 8 | src[1]);
    if (avail < 2 + size)
        return SW_CHUNK_SIZE;
    if (process)
        return SW_KEYTYPE_UNSUPP; /* no multi-part RSA (CA: "ambiguous?") */
    if (k->bits > VC_MAX_RSA_BITS)
        return SW_KEY_SIZE;
    size_t mod = (k->bits + 7u) / 8;
    if (size != mod)
        return SW_CHUNK_SIZE;
    if (!rsa_raw(k, src + 2, size, out))
        return SW_INVALID_PARAM; /* input not below the modulus */
    if (d[0] == LOC_OBJECT) {
        c->iobuf[0] = (uint8_t)(size >> 8);
        c->iobuf[1] = (uint8_t)size;
        memcpy(c->iobuf + 2, out, size);
        c->iobuf_size = 2 + size;
    } else {
        if (2 + size > VC_RESP_MAX - 2)
            return SW_OUT_TOO_SMALL;
        r->data[0] = (uint8_t)(size >> 8);
        r->data[1] = (uint8_t)size;
        memcpy(r->data + 2, out, size);
        r->len = 2 + size;
    }
    explicit_bzero(out, sizeof(out));
    return SW_OK;
}

uint16_t vc_cmd_compute_crypt(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    unsigned key = a->p1;
    uint16_t sw;
    if (key >= VC_MAX_KEYS || c->keys[key].type == 0)
        return SW_BAD_P1;
    if (!(c->keys[key].acl[2] & c->auth_id))
        return SW_UNAUTHORIZED;
    switch (a->p2) {
    case 0x01:
        return crypt_init(c, key, a->data, a->lc);
    case 0x02:
    case 0x03:
        return crypt_final(c, key, a->data, a->lc, a->p2 == 0x02, r);
    case 0x04:
        if ((sw = crypt_init(c, key, a->data, a->lc)) != SW_OK)
            return sw;
        return crypt_final(c, key, a->data + 2, a->lc - 2, false, r);
    default:
        return SW_BAD_P2;
    }
}
