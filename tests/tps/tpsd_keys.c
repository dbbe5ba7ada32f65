/* tpsd_keys: on-card key generation with proof check, server-side keys, certificates. */
#include "tpsd_keys.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "tpsd_archive.h"
#include "tpsd_log.h"

static pthread_mutex_t ca_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* An EVP_PKEY for the RSA public key (modulus, exponent big-endian). */
static EVP_PKEY *rsa_public(const struct tpsd_pubkey *k)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *n = BN_bin2bn(k->mod, (int)k->mod_len, NULL),
           *e = BN_bin2bn(k->exp, (int)k->exp_len, NULL);
    if (!bld || !n || !e || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

int tpsd_keyblob_parse(const uint8_t *blob, size_t len, const uint8_t challenge[16],
                       struct tpsd_pubkey *out)
{
    size_t publen, siglen, modlen, explen;
    const uint8_t *pub, *sig;
    uint8_t signed_data[2 + 2 + 2 + 512 + 2 + 16 + 16 + 2];
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *md = NULL;
    int ret = -1;
    if (len < 2)
        return -1;
    publen = get16(blob);
    if (publen < 8 || 2 + publen + 2 > len)
        return -1;
    pub = blob + 2;
    siglen = get16(blob + 2 + publen);
    if (2 + publen + 2 + siglen != len || siglen == 0)
        return -1;
    sig = blob + 2 + publen + 2;
    /* pubBlob = 00 (plain) 01 (RSA public) keySize(2) modLen(2) mod expLen(2) exp */
    if (pub[0] != 0x00 || pub[1] != 0x01)
        return -1;
    modlen = get16(pub + 4);
    if (modlen == 0 || modlen > sizeof(out->mod) || 6 + modlen + 2 > publen)
        return -1;
    explen = get16(pub + 6 + modlen);
    if (explen == 0 || explen > sizeof(out->exp) || 8 + modlen + explen != publen)
        return -1;
    memcpy(out->mod, pub + 6, modlen);
    out->mod_len = modlen;
    memcpy(out->exp, pub + 8 + modlen, explen);
    out->exp_len = explen;
    if (publen + 16 > sizeof(signed_data))
        return -1;
    memcpy(signed_data, pub, publen);
    memcpy(signed_data + publen, challenge, 16);
    pkey = rsa_public(out);
    md = EVP_MD_CTX_new();
    if (!pkey || !md)
        goto out;
    ret = -2;
    if (EVP_DigestVerifyInit(md, NULL, EVP_sha1(), NULL, pkey) == 1 &&
        EVP_DigestVerify(md, sig, siglen, signed_data, publen + 16) == 1)
        ret = 0;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    return ret;
}

#define IOBUF_MAX 900

int tpsd_keygen_card(struct tpsd_op *op, unsigned priv, unsigned pub, struct tpsd_pubkey *out)
{
    static const uint8_t IOBUF_ID[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    struct tpsd_card *k = &op->card;
    uint8_t chal[16], a[5 + 23] = {0x84, 0x0C}, r[TPSD_RESP_MAX], blob[IOBUF_MAX];
    size_t rlen, size;
    uint16_t sw;
    int rc;
    if (RAND_bytes(chal, sizeof(chal)) != 1)
        return TPSD_ST_MAC_ENROLL_PDU;
    a[2] = (uint8_t)((0 << 4) | priv); /* keyUser 0 = PIN 0 owns the private key */
    a[3] = (uint8_t)((0 << 4) | pub);
    a[4] = 23;
    a[5] = 0x80; /* RSA CRT, no key check */
    a[6] = (uint8_t)(op->cfg->key_size >> 8), a[7] = (uint8_t)op->cfg->key_size;
    a[8] = 0x00, a[9] = 0x00, a[10] = 16;
    /* the TKS wraps the challenge with the card's static KEK, 3DES-ECB (coolkey-card.md §5.6) */
    gp_kek_encrypt(k->keys.kek, chal, 16, a + 11);
    a[27] = 0x00;
    if (tpsd_card_secure(k, a, sizeof(a), tpsd_card_le_trailer(k), r, &rlen, &sw) < 0)
        return tpsd_op_err(op, TPSD_ST_MAC_ENROLL_PDU);
    if (sw != 0x9000 || rlen != 2) {
        tpsd_log(op->id, "GENERATE KEY %u/%u: SW %04X", priv, pub, sw);
        return TPSD_ST_MAC_ENROLL_PDU;
    }
    size = get16(r);
    if (size < 12 || size > sizeof(blob)) {
        tpsd_log(op->id, "GENERATE KEY announced a %zu-byte result", size);
        return TPSD_ST_MAC_ENROLL_PDU;
    }
    if (tpsd_card_read_object(k, IOBUF_ID, 0, size, blob) < 0)
        return tpsd_op_err(op, TPSD_ST_MAC_ENROLL_PDU);
    rc = tpsd_keyblob_parse(blob, size, chal, out);
    if (rc < 0) {
        tpsd_log(op->id, "key %u: %s", priv,
                 rc == -2 ? "the proof signature does not verify" : "malformed public key blob");
        return TPSD_ST_MAC_ENROLL_PDU;
    }
    tpsd_log(op->id, "key %u/%u generated on the card (%zu-bit modulus, proof verified)", priv, pub,
             out->mod_len * 8);
    return 0;
}

static int export_public(EVP_PKEY *key, struct tpsd_pubkey *out)
{
    BIGNUM *n = NULL, *e = NULL;
    int ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
             EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1 &&
             (size_t)BN_num_bytes(n) <= sizeof(out->mod) &&
             (size_t)BN_num_bytes(e) <= sizeof(out->exp);
    if (ok) {
        out->mod_len = (size_t)BN_bn2bin(n, out->mod);
        out->exp_len = (size_t)BN_bn2bin(e, out->exp);
    }
    BN_free(n);
    BN_free(e);
    return ok ? 0 : -1;
}

int tpsd_keygen_server(struct tpsd_op *op, unsigned priv, unsigned pub, struct tpsd_pubkey *out,
                       int *recovered)
{
    EVP_PKEY *key = NULL;
    int ret = TPSD_ST_MAC_ENROLL_PDU, rc;
    if (!op->cfg->archive_dir || !op->user[0]) {
        tpsd_log(op->id, "server-side key generation needs an archive and a user");
        return TPSD_ST_KEY_ARCHIVE_OFF;
    }
    key = tpsd_archive_load(op->cfg->archive_dir, op->user);
    *recovered = key != NULL;
    if (!key) {
        key = EVP_RSA_gen(op->cfg->key_size);
        if (!key || tpsd_archive_store(op->cfg->archive_dir, op->user, key) < 0) {
            tpsd_log(op->id, "cannot generate or archive the encryption key");
            ret = TPSD_ST_KEY_ARCHIVE_OFF;
            goto out;
        }
        tpsd_log(op->id, "encryption key generated and archived for '%s'", op->user);
    } else {
        tpsd_log(op->id, "archived encryption key of '%s' recovered", op->user);
    }
    if (export_public(key, out) < 0)
        goto out;
    rc = tpsd_key_import(op, key, priv, pub);
    if (rc != 0) {
        ret = rc;
        goto out;
    }
    ret = 0;
out:
    ERR_clear_error();
    EVP_PKEY_free(key);
    return ret;
}

uint8_t *tpsd_issue_cert(struct tpsd_op *op, const struct tpsd_pubkey *key, int usage,
                         const char *uid, const char *cn, size_t *der_len)
{
    time_t now = time(NULL);
    uint8_t *der;
    pthread_mutex_lock(&ca_lock);
    der = testca_issue(op->ctx->ca, key->mod, key->mod_len, key->exp, key->exp_len, uid, cn,
                       usage == 2 ? TESTCA_ENCRYPTION : TESTCA_SIGNING, now - 300,
                       now + (time_t)op->cfg->cert_days * 86400, der_len);
    pthread_mutex_unlock(&ca_lock);
    if (!der)
        tpsd_log(op->id, "the test CA refused to issue a certificate");
    return der;
}
