/* tpsd_keyimport: IMPORT KEY ENC (84 0A) of a server-generated or recovered private key
 * (coolkey-card.md §2.2, §4.6; applet CardEdge.importKeyEncrypted):
 *  1. a random DES2 transport key; the key blob 01 (encrypted) || 09 (PKCS#8 RSA pair) ||
 *     keySize(2) || DES3-CBC(transport key, iv, PKCS#8 DER, PKCS#5 padding) is written to a
 *     temporary object "KX" readable by the RA only (the applet also takes the IO buffer, the
 *     virtual card only an object; the padding is harmless to the applet's DER parser);
 *  2. 84 0A P1 P2 with the object ID || keyType 80 || 10 || transport key wrapped under the
 *     static KEK (3DES-ECB) || 03 || key check value (3DES-ECB of zeros, 3 bytes) || 08 || iv;
 *  3. the (zeroed) blob object is deleted. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "tpsd_keys.h"
#include "tpsd_log.h"

#define BLOB_MAX 2048 /* a 2048-bit PKCS#8 key is about 1220 bytes */

/* DES3-CBC with the 2-key transport key (K1 K2 K1), no padding (len % 8 == 0). */
static int des3_cbc(const uint8_t key16[16], const uint8_t iv[8], const uint8_t *in, size_t len,
                    uint8_t *out)
{
    uint8_t k24[24];
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, m = 0, ok;
    memcpy(k24, key16, 16);
    memcpy(k24 + 16, key16, 8);
    ok = c && EVP_EncryptInit_ex(c, EVP_des_ede3_cbc(), NULL, k24, iv) == 1 &&
         EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
         EVP_EncryptUpdate(c, out, &n, in, (int)len) == 1 &&
         EVP_EncryptFinal_ex(c, out + n, &m) == 1 && (size_t)(n + m) == len;
    EVP_CIPHER_CTX_free(c);
    explicit_bzero(k24, sizeof(k24));
    return ok ? 0 : -1;
}

static int key_check_value(const uint8_t key16[16], uint8_t kcv[3])
{
    static const uint8_t zero[8], iv[8];
    uint8_t out[8];
    if (des3_cbc(key16, iv, zero, 8, out) < 0)
        return -1;
    memcpy(kcv, out, 3);
    return 0;
}

int tpsd_key_import(struct tpsd_op *op, EVP_PKEY *key, unsigned priv, unsigned pub)
{
    static const uint8_t BLOB_ID[4] = {'K', 'X', 0x00, 0x00};
    struct tpsd_card *k = &op->card;
    uint8_t blob[BLOB_MAX], plain[BLOB_MAX], tkey[16], iv[8], a[5 + 40];
    unsigned char *der = NULL;
    int der_len = i2d_PrivateKey(key, NULL), ret = TPSD_ST_MAC_ENROLL_PDU;
    size_t padded, n = 5;
    unsigned bits = (unsigned)EVP_PKEY_get_bits(key);
    if (der_len <= 0 || (size_t)der_len + 8 + 4 > BLOB_MAX) {
        tpsd_log(op->id, "the private key does not fit the card's IO buffer");
        return TPSD_ST_MAC_ENROLL_PDU;
    }
    {
        /* PKCS#8 PrivateKeyInfo DER */
        PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
        der_len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &der) : -1;
        PKCS8_PRIV_KEY_INFO_free(p8);
    }
    if (der_len <= 0 || (size_t)der_len + 8 + 4 > BLOB_MAX || RAND_bytes(tkey, 16) != 1 ||
        RAND_bytes(iv, 8) != 1)
        goto out;
    padded = ((size_t)der_len / 8 + 1) * 8; /* PKCS#5: 1..8 bytes of value n */
    memcpy(plain, der, (size_t)der_len);
    memset(plain + der_len, (int)(padded - (size_t)der_len), padded - (size_t)der_len);
    blob[0] = 0x01; /* encrypted */
    blob[1] = 0x09; /* PKCS#8 RSA key pair */
    blob[2] = (uint8_t)(bits >> 8), blob[3] = (uint8_t)bits;
    if (des3_cbc(tkey, iv, plain, padded, blob + 4) < 0)
        goto out;
    if (tpsd_card_create_object(k, BLOB_ID, 4 + padded, 0x4000) < 0 ||
        tpsd_card_write_object(k, BLOB_ID, blob, 4 + padded) < 0) {
        ret = tpsd_op_err(op, TPSD_ST_MAC_ENROLL_PDU);
        goto out;
    }
    a[0] = 0x84, a[1] = 0x0A;
    a[2] = (uint8_t)((0 << 4) | priv); /* owner PIN 0 */
    a[3] = (uint8_t)((0 << 4) | pub);
    memcpy(a + n, BLOB_ID, 4), n += 4;
    a[n++] = 0x80; /* DES3 key type */
    a[n++] = 16;
    gp_kek_encrypt(k->keys.kek, tkey, 16, a + n), n += 16;
    a[n++] = 3;
    if (key_check_value(tkey, a + n) < 0)
        goto out;
    n += 3;
    a[n++] = 8;
    memcpy(a + n, iv, 8), n += 8;
    a[4] = (uint8_t)(n - 5);
    if (tpsd_card_secure_ok(k, a, n, TPSD_ST_MAC_ENROLL_PDU) < 0) {
        ret = tpsd_op_err(op, TPSD_ST_MAC_ENROLL_PDU);
        goto out;
    }
    if (tpsd_card_delete_object(k, BLOB_ID) < 0) {
        ret = tpsd_op_err(op, TPSD_ST_MAC_ENROLL_PDU);
        goto out;
    }
    tpsd_log(op->id, "private key imported into slots %u/%u (%u bits)", priv, pub, bits);
    ret = 0;
out:
    explicit_bzero(plain, sizeof(plain));
    explicit_bzero(tkey, sizeof(tkey));
    explicit_bzero(a, sizeof(a));
    if (der) {
        explicit_bzero(der, (size_t)der_len);
        OPENSSL_free(der);
    }
    return ret;
}
