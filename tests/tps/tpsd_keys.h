/* tpsd_keys: the key pairs of an enrollment and their certificates.
 *  - on-card: GENERATE KEY (84 0C) with a challenge wrapped under the static KEK, the IO
 *    buffer read back with READ OBJECT FFFFFFFF, the blob parsed and the proof (RSASSA-PKCS1
 *    v1.5 SHA-1 by the new key over pubBlob || challenge) verified (coolkey-card.md §2.5);
 *  - server-side (userKeyArchive): generated here or recovered from the archive, injected
 *    with IMPORT KEY ENC (84 0A);
 *  - certificates from the test CA (tests/lib/testca.h). */
#ifndef TPSD_KEYS_H
#define TPSD_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "tpsd_op.h"

struct tpsd_pubkey {
    uint8_t mod[512];
    size_t mod_len;
    uint8_t exp[16];
    size_t exp_len;
};

/* Parses the IO-buffer blob len16 || pubBlob || len16 || sig and verifies the proof over
 * pubBlob || challenge. 0 ok, -1 malformed, -2 bad proof. (Pure; fuzzed.) */
int tpsd_keyblob_parse(const uint8_t *blob, size_t len, const uint8_t challenge[16],
                       struct tpsd_pubkey *out);

/* On-card key pair in slots priv/pub (owner = PIN 0). 0 or an END_OP code. */
int tpsd_keygen_card(struct tpsd_op *op, unsigned priv, unsigned pub, struct tpsd_pubkey *out);
/* Server-side key for op->user: recovered from the archive if there is one, else generated
 * and archived; then injected into slots priv/pub. *recovered tells which. 0 or a code. */
int tpsd_keygen_server(struct tpsd_op *op, unsigned priv, unsigned pub, struct tpsd_pubkey *out,
                       int *recovered);

/* IMPORT KEY ENC (84 0A) of an RSA private key into slots priv/pub (tpsd_keyimport.c).
 * 0 or an END_OP code. */
int tpsd_key_import(struct tpsd_op *op, EVP_PKEY *key, unsigned priv, unsigned pub);

/* Certificate for `key` from the test CA (thread-safe). malloc'd DER or NULL. */
uint8_t *tpsd_issue_cert(struct tpsd_op *op, const struct tpsd_pubkey *key, int usage,
                         const char *uid, const char *cn, size_t *der_len);

#endif
