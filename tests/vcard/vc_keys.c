/* vc_keys.c: the applet's RSA key slots: LIST KEYS, GENERATE KEY with the KEK-wrapped
 * challenge and the proof blob (coolkey-card.md §2.5), IMPORT KEY (§4.6), IMPORT KEY
 * ENCRYPTED for server-side keygen and key recovery (84 0A), CLEAR KEY SLOTS (84 55). */
#include "vc_card.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define ACL_READ  0
#define ACL_WRITE 1
#define ACL_USE   2

void vc_key_clear(struct vc_key *k)
{
    EVP_PKEY_free(k->pkey);
    memset(k, 0, sizeof(*k));
    k->mate = -1;
}

void vc_key_put(struct vc_card *c, unsigned n, EVP_PKEY *pkey, uint8_t type, int mate,
                const uint16_t acl[3])
{
    struct vc_key *k = &c->keys[n];
    vc_key_clear(k);
    k->type = type;
    k->mate = mate;
    k->bits = (uint16_t)EVP_PKEY_get_bits(pkey);
    memcpy(k->acl, acl, sizeof(k->acl));
    k->pkey = pkey;
    c->dirty = true;
}

/* The private half and the public half share one EVP_PKEY; the public slot only ever uses
 * the public parts. Private: read nobody, write RA, use `use_acl`; public: read anyone, write
 * RA, use anyone (CA GenerateKeyPairRSA). */
static bool install_pair(struct vc_card *c, unsigned priv, unsigned pub, EVP_PKEY *pkey,
                         uint16_t use_acl)
{
    const uint16_t acl_priv[3] = {0x0000, VC_ID_RA, use_acl};
    const uint16_t acl_pub[3] = {0xFFFF, VC_ID_RA, 0xFFFF};
    /* one reference per slot; the caller keeps (and frees) its own */
    if (!EVP_PKEY_up_ref(pkey))
        return false;
    if (!EVP_PKEY_up_ref(pkey)) {
        EVP_PKEY_free(pkey);
        return false;
    }
    vc_key_put(c, priv, pkey, VC_KEY_RSA_PRIVATE_CRT, (int)pub, acl_priv);
    vc_key_put(c, pub, pkey, VC_KEY_RSA_PUBLIC, (int)priv, acl_pub);
    return true;
}

/* Mated keys stay mated (CA: SW_INCONSTANT_KEYPAIRING otherwise). */
static bool pairing_ok(const struct vc_card *c, unsigned priv, unsigned pub)
{
    return (c->keys[pub].mate == -1 || c->keys[pub].mate == (int)priv) &&
           (c->keys[priv].mate == -1 || c->keys[priv].mate == (int)pub);
}

uint16_t vc_key_generate(struct vc_card *c, unsigned priv, unsigned pub, unsigned bits,
                         uint16_t use_acl)
{
    if (priv >= VC_MAX_KEYS || pub >= VC_MAX_KEYS || priv == pub)
        return SW_INVALID_PARAM;
    if (bits != 1024 && bits != 2048)
        return SW_KEY_SIZE;
    if (!pairing_ok(c, priv, pub))
        return SW_KEY_PAIRING;
    EVP_PKEY *k = EVP_RSA_gen(bits);
    if (!k)
        return SW_INTERNAL;
    bool ok = install_pair(c, priv, pub, k, use_acl);
    EVP_PKEY_free(k);
    return ok ? SW_OK : SW_INTERNAL;
}

uint16_t vc_cmd_list_keys(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    if (a->p2 != 0)
        return SW_BAD_P2;
    if (a->p3 != 11)
        return SW_WRONG_LENGTH;
    if (a->p1 == 0)
        c->list_key_next = 0;
    else if (a->p1 != 1)
        return SW_BAD_P1;
    while (c->list_key_next < VC_MAX_KEYS && c->keys[c->list_key_next].type == 0)
        c->list_key_next++;
    if (c->list_key_next >= VC_MAX_KEYS)
        return SW_OK; /* no more keys: 9000 without data */
    size_t n = c->list_key_next++;
    const struct vc_key *k = &c->keys[n];
    r->data[0] = (uint8_t)n;
    r->data[1] = k->type;
    r->data[2] = (uint8_t)k->mate;
    r->data[3] = (uint8_t)(k->bits >> 8);
    r->data[4] = (uint8_t)k->bits;
    for (int i = 0; i < 3; i++) {
        r->data[5 + 2 * i] = (uint8_t)(k->acl[i] >> 8);
        r->data[6 + 2 * i] = (uint8_t)k->acl[i];
    }
    r->len = 11;
    return SW_OK;
}

/* pubBlob = 00 01 keySize(2) modLen(2) modulus expLen(2) exponent (CA outputRSAPublicKey). */
static size_t public_blob(EVP_PKEY *pkey, unsigned bits, uint8_t *out, size_t cap)
{
    BIGNUM *n = NULL, *e = NULL;
    size_t len = 0;
    if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
        !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e))
        goto out;
    size_t ml = (size_t)BN_num_bytes(n), el = (size_t)BN_num_bytes(e);
    if (8 + ml + el > cap)
        goto out;
    out[0] = 0x00;
    out[1] = 0x01;
    out[2] = (uint8_t)(bits >> 8);
    out[3] = (uint8_t)bits;
    out[4] = (uint8_t)(ml >> 8);
    out[5] = (uint8_t)ml;
    BN_bn2bin(n, out + 6);
    out[6 + ml] = (uint8_t)(el >> 8);
    out[7 + ml] = (uint8_t)el;
    BN_bn2bin(e, out + 8 + ml);
    len = 8 + ml + el;
out:
    BN_free(n);
    BN_free(e);
    return len;
}

/* The proof: RSASSA-PKCS1-v1_5 with SHA-1 over pubBlob || challenge (CA handSign builds the
 * same block by hand). */
static size_t proof(EVP_PKEY *pkey, const uint8_t *msg, size_t len, uint8_t *sig, size_t cap)
{
    size_t sl = cap;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    bool ok = m && EVP_DigestSignInit(m, NULL, EVP_sha1(), NULL, pkey) == 1 &&
              EVP_DigestSign(m, sig, &sl, msg, len) == 1;
    EVP_MD_CTX_free(m);
    return ok ? sl : 0;
}

static uint16_t owner_acl(uint8_t p1, uint16_t *acl)
{
    unsigned owner = p1 >> 4;
    if (owner == 0xF)
        *acl = 0xFFFF;
    else if (owner > VC_MAX_PINS)
        return SW_BAD_P1;
    else
        *acl = (uint16_t)(1u << owner);
    return SW_OK;
}

/* Existing keys may only be overwritten with their write ACL (the RA). */
static bool may_write(const struct vc_card *c, unsigned n)
{
    return c->keys[n].type == 0 || (c->keys[n].acl[ACL_WRITE] & c->auth_id);
}

/* 84 0C: P1 owner<<4 | priv#, P2 usage<<4 | pub#; data alg keySize(2) option type 10
 * wrappedChallenge(16) keyCheckLen (Lc 23 exactly). Answer: the IO buffer size. */
uint16_t vc_cmd_generate_key(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    unsigned priv = a->p1 & 0x0F, pub = a->p2 & 0x0F;
    uint8_t p1 = a->p1;
    uint16_t use, sw;
    if (a->p1 == 0 && a->p2 == 0) /* legacy: priv 0, pub 1, owner anyone */
        priv = 0, pub = 1, p1 = 0xF0;
    if ((sw = owner_acl(p1, &use)) != SW_OK)
        return sw;
    if (!may_write(c, priv))
        return SW_UNAUTHORIZED;
    if (!may_write(c, pub))
        return SW_UNAUTHORIZED;
    if (a->lc != 23)
        return SW_WRONG_LENGTH;
    const uint8_t *d = a->data;
    unsigned bits = (unsigned)(d[1] << 8 | d[2]);
    if (d[0] != 0x80 && d[0] != 0x81)
        return SW_KEYTYPE_UNSUPP;
    if (d[5] != 16)
        return SW_BAD_WRAPPED_KEY;
    uint8_t chal[16];
    gp_kek_decrypt(vc_gp_keys(c)->kek, d + 6, 16, chal);
    if ((sw = vc_key_generate(c, priv, pub, bits, use)) != SW_OK)
        goto out;
    uint8_t msg[8 + 256 + 8 + 16], sig[256];
    size_t bl = public_blob(c->keys[pub].pkey, bits, msg, sizeof(msg) - 16);
    memcpy(msg + bl, chal, 16);
    size_t sl = bl ? proof(c->keys[priv].pkey, msg, bl + 16, sig, sizeof(sig)) : 0;
    if (!sl || 4 + bl + sl > VC_IOBUF_MAX) {
        sw = SW_INTERNAL;
        goto out;
    }
    c->iobuf[0] = (uint8_t)(bl >> 8);
    c->iobuf[1] = (uint8_t)bl;
    memcpy(c->iobuf + 2, msg, bl);
    c->iobuf[2 + bl] = (uint8_t)(sl >> 8);
    c->iobuf[3 + bl] = (uint8_t)sl;
    memcpy(c->iobuf + 4 + bl, sig, sl);
    c->iobuf_size = 4 + bl + sl;
    r->data[0] = (uint8_t)(c->iobuf_size >> 8);
    r->data[1] = (uint8_t)c->iobuf_size;
    r->len = 2;
out:
    explicit_bzero(chal, sizeof(chal));
    return sw;
}

/* The key blob source of IMPORT KEY / IMPORT KEY ENCRYPTED: the IO buffer or an object. */
static uint16_t key_source(struct vc_card *c, const uint8_t id[4], bool need_write, uint8_t **buf,
                           size_t *len)
{
    if (vc_is_iobuf_id(id)) {
        *buf = c->iobuf;
        *len = c->iobuf_size;
        return SW_OK;
    }
    struct vc_object *o = vc_obj_find(c, id);
    if (!o)
        return SW_OBJ_NOT_FOUND;
    if (!(o->acl[0] & c->auth_id) || (need_write && !(o->acl[1] & c->auth_id)))
        return SW_UNAUTHORIZED;
    *buf = o->data;
    *len = o->size;
    return SW_OK;
}

/* Builds an RSA key from the blob body: type 1 public (modLen mod expLen exp) or type 9
 * PKCS#8 key pair. Type 3 (bare CRT parts without n and e) is not supported here. */
static EVP_PKEY *blob_key(uint8_t type, const uint8_t *p, size_t n)
{
    if (type == VC_KEY_RSA_PKCS8_PAIR) {
        if (n < 2 || p[0] != 0x30)
            return NULL;
        const uint8_t *q = p;
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q, (long)n);
        EVP_PKEY *k = p8 ? EVP_PKCS82PKEY(p8) : NULL;
        PKCS8_PRIV_KEY_INFO_free(p8);
        if (k && EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
            EVP_PKEY_free(k);
            k = NULL;
        }
        return k;
    }
    if (type == VC_KEY_RSA_PUBLIC) {
        if (n < 2)
            return NULL;
        size_t ml = (size_t)(p[0] << 8 | p[1]);
        if (2 + ml + 2 > n)
            return NULL;
        size_t el = (size_t)(p[2 + ml] << 8 | p[3 + ml]);
        if (4 + ml + el > n || ml == 0 || el == 0)
            return NULL;
        BIGNUM *bn = BN_bin2bn(p + 2, (int)ml, NULL), *be = BN_bin2bn(p + 4 + ml, (int)el, NULL);
        OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        EVP_PKEY *k = NULL;
        if (bn && be && b && x && OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
            OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be) == 1 &&
            (params = OSSL_PARAM_BLD_to_param(b)) != NULL && EVP_PKEY_fromdata_init(x) == 1 &&
            EVP_PKEY_fromdata(x, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
            k = NULL;
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(b);
        EVP_PKEY_CTX_free(x);
        BN_free(bn);
        BN_free(be);
        return k;
    }
    return NULL;
}

/* B0/84 32: P1 key#, P2 mate#; data objID(4) ACL(6) [mate ACL(6)]; blob 00 type size(2)... */
uint16_t vc_cmd_import_key(struct vc_card *c, const struct vc_apdu *a)
{
    unsigned key = a->p1, mate = a->p2;
    uint8_t *buf;
    size_t len;
    uint16_t sw;
    if (key >= VC_MAX_KEYS)
        return SW_BAD_P1;
    if (!may_write(c, key))
        return SW_UNAUTHORIZED;
    if (a->lc < 10)
        return SW_INVALID_PARAM;
    if ((sw = key_source(c, a->data, false, &buf, &len)) != SW_OK)
        return sw;
    if (len < 4)
        return SW_INVALID_PARAM;
    if (buf[0] != 0)
        return SW_UNSUPPORTED;
    uint8_t type = buf[1];
    const uint8_t *d = a->data + 4;
    uint16_t acl[3] = {(uint16_t)(d[0] << 8 | d[1]), (uint16_t)(d[2] << 8 | d[3]),
                       (uint16_t)(d[4] << 8 | d[5])};
    if (type == VC_KEY_RSA_PKCS8_PAIR) {
        if (mate >= VC_MAX_KEYS || mate == key || a->lc < 16)
            return SW_BAD_P2;
        if (!may_write(c, mate))
            return SW_UNAUTHORIZED;
        if (!pairing_ok(c, key, mate))
            return SW_KEY_PAIRING;
    } else if (type != VC_KEY_RSA_PUBLIC) {
        return SW_KEYTYPE_UNSUPP;
    }
    EVP_PKEY *k = blob_key(type, buf + 4, len - 4);
    explicit_bzero(buf, len);
    if (!k)
        return SW_INVALID_PARAM;
    if (type == VC_KEY_RSA_PUBLIC) {
        vc_key_put(c, key, k, VC_KEY_RSA_PUBLIC, c->keys[key].mate, acl);
        return SW_OK;
    }
    const uint16_t macl[3] = {(uint16_t)(d[6] << 8 | d[7]), (uint16_t)(d[8] << 8 | d[9]),
                              (uint16_t)(d[10] << 8 | d[11])};
    if (!EVP_PKEY_up_ref(k)) {
        EVP_PKEY_free(k);
        return SW_INTERNAL;
    }
    vc_key_put(c, key, k, VC_KEY_RSA_PRIVATE_CRT, (int)mate, acl);
    vc_key_put(c, mate, k, VC_KEY_RSA_PUBLIC, (int)key, macl);
    return SW_OK;
}

static bool des3_cbc_decrypt(const uint8_t key16[16], const uint8_t iv[8], uint8_t *buf, size_t len)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    bool ok = x && EVP_DecryptInit_ex(x, EVP_des_ede_cbc(), NULL, key16, iv) == 1 &&
              EVP_CIPHER_CTX_set_padding(x, 0) == 1 &&
              EVP_DecryptUpdate(x, buf, &n, buf, (int)len) == 1 &&
              EVP_DecryptFinal_ex(x, buf + n, &m) == 1 && (size_t)(n + m) == len;
    EVP_CIPHER_CTX_free(x);
    return ok;
}

/* 84 0A: P1 owner<<4 | priv#, P2 usage<<4 | pub#; data objID(4) keyType(1) 10 wrappedDES2(16)
 * checkLen check ivLen(=8) iv. The blob is 01 09 keySize(2) DES3-CBC(PKCS#8 DER, zero padded)
 * and is zeroed afterwards. */
uint16_t vc_cmd_import_key_encrypted(struct vc_card *c, const struct vc_apdu *a)
{
    unsigned priv = a->p1 & 0x0F, pub = a->p2 & 0x0F;
    const uint8_t *d = a->data;
    size_t n = a->lc;
    uint16_t use, sw;
    uint8_t *buf, des2[16], kcv[8];
    static const uint8_t zero[8];
    size_t len;
    if ((sw = owner_acl(a->p1, &use)) != SW_OK)
        return sw;
    if (!may_write(c, priv) || !may_write(c, pub))
        return SW_UNAUTHORIZED;
    if (n <= 6)
        return SW_WRONG_LENGTH;
    if (d[5] != 16)
        return SW_KEY_SIZE;
    size_t co = 6 + 16;
    if (n <= co)
        return SW_WRONG_LENGTH;
    size_t cl = d[co], io = co + 1 + cl;
    if (n <= io || n < io + 1 + d[io])
        return SW_WRONG_LENGTH;
    if (d[io] != 8)
        return SW_WRONG_LENGTH;
    gp_kek_decrypt(vc_gp_keys(c)->kek, d + 6, 16, des2);
    gp_kek_encrypt(des2, zero, 8, kcv); /* the key check value: DES3(key, 0) */
    if (cl > 8 || memcmp(kcv, d + co + 1, cl) != 0) {
        sw = SW_BAD_WRAPPED_KEY;
        goto out;
    }
    if ((sw = key_source(c, d, true, &buf, &len)) != SW_OK)
        goto out;
    sw = SW_BAD_WRAPPED_PRIV;
    if (len < 4 + 8 || (len - 4) % 8 || buf[0] != 0x01 || buf[1] != VC_KEY_RSA_PKCS8_PAIR) {
        explicit_bzero(buf, len);
        goto out;
    }
    if (!pairing_ok(c, priv, pub)) {
        explicit_bzero(buf, len);
        sw = SW_KEY_PAIRING;
        goto out;
    }
    EVP_PKEY *k = NULL;
    if (des3_cbc_decrypt(des2, d + io + 1, buf + 4, len - 4))
        k = blob_key(VC_KEY_RSA_PKCS8_PAIR, buf + 4, len - 4);
    explicit_bzero(buf, len);
    if (!k)
        goto out;
    sw = install_pair(c, priv, pub, k, use) ? SW_OK : SW_INTERNAL;
    EVP_PKEY_free(k);
out:
    explicit_bzero(des2, sizeof(des2));
    return sw;
}

/* 84 55: the (priv, pub) pairs to keep; every other key slot is cleared. */
uint16_t vc_cmd_clear_key_slots(struct vc_card *c, const struct vc_apdu *a)
{
    bool keep[VC_MAX_KEYS] = {false};
    if (a->p1 != 0)
        return SW_BAD_P1;
    if (a->p2 != 0)
        return SW_BAD_P2;
    if (a->lc == 0 || a->lc % 2)
        return SW_INVALID_PARAM;
    for (size_t i = 0; i < a->lc; i += 2) {
        unsigned pv = a->data[i], pb = a->data[i + 1];
        if (pv >= VC_MAX_KEYS || pb >= VC_MAX_KEYS)
            return SW_INVALID_PARAM;
        if (!pairing_ok(c, pv, pb))
            return SW_KEY_PAIRING;
        keep[pv] = keep[pb] = true;
    }
    for (unsigned i = 0; i < VC_MAX_KEYS; i++) {
        if (keep[i] || c->keys[i].type == 0)
            continue;
        if (!(c->keys[i].acl[ACL_WRITE] & c->auth_id))
            return SW_UNAUTHORIZED;
        vc_key_clear(&c->keys[i]);
        c->dirty = true;
    }
    return SW_OK;
}
