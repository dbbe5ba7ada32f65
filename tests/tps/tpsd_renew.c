/* tpsd_renew: RENEW. The Java TPS answers operation 4 with an error; this TPS implements what
 * a renewal means for the rig's EXPIRED cards: every certificate in z0 is re-issued by the
 * test CA for the same on-card key (fresh validity), and z0 is rewritten (object version + 1).
 * Only for an active token owned by the user (37 renewal failed / 43 not the owner). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "z0.h"
#include "tpsd_keys.h"
#include "tpsd_log.h"
#include "tpsd_op.h"
#include "tpsd_z0read.h"

/* Public key and usage of an old certificate. 0 or -1. */
static int old_cert_key(const struct tpsd_z0cert *c, struct tpsd_pubkey *key, int *usage)
{
    const unsigned char *p = c->der;
    X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
    EVP_PKEY *pk = x ? X509_get0_pubkey(x) : NULL;
    BIGNUM *n = NULL, *e = NULL;
    int ret = -1;
    if (!pk || EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
        (size_t)BN_num_bytes(n) > sizeof(key->mod) || (size_t)BN_num_bytes(e) > sizeof(key->exp))
        goto out;
    key->mod_len = (size_t)BN_bn2bin(n, key->mod);
    key->exp_len = (size_t)BN_bn2bin(e, key->exp);
    *usage = (X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE) ? 1 : 2;
    ret = 0;
out:
    BN_free(n);
    BN_free(e);
    X509_free(x);
    return ret;
}

int tpsd_renew(struct tpsd_op *op)
{
    struct tpsd_card *k = &op->card;
    struct tpsd_z0 z;
    struct z0_cert certs[TPSD_Z0_MAX_CERTS];
    uint8_t *der[TPSD_Z0_MAX_CERTS] = {NULL};
    size_t n = 0;
    int rc;
    if (!op->have_token) {
        rc = tpsd_op_adopt(op);
        if (rc)
            return rc;
    }
    rc = tpsd_op_login(op, OI_RENEW);
    if (rc)
        return rc;
    if (op->token.status != TS_ACTIVE)
        return op->token.status == TS_DISABLED ? TPSD_ST_DISABLED_TOKEN : TPSD_ST_RECOVERY_FAILED;
    if (op->user[0] && strcmp(op->token.owner, op->user) != 0)
        return TPSD_ST_NOT_TOKEN_OWNER;
    if (!k->applet_present || tpsd_card_select_applet(k) != 0 || tpsd_card_open_channel(k) < 0)
        return tpsd_op_err(op, TPSD_ST_SECURE_CHANNEL);
    tpsd_card_get_lifecycle(k);
    if (tpsd_op_status(op, 10, "PROGRESS_PROCESS_PROFILE") < 0)
        return tpsd_op_err(op, TPSD_ST_CONN_LOST);
    rc = tpsd_read_z0(op, &z);
    if (rc)
        return rc == 1 ? TPSD_ST_RECOVERY_FAILED : rc;
    rc = TPSD_ST_RECOVERY_FAILED;
    for (size_t i = 0; i < z.n_certs; i++) {
        struct tpsd_pubkey key;
        char uid[128], cn[128];
        int usage;
        size_t len;
        if (old_cert_key(&z.certs[i], &key, &usage) < 0 ||
            tpsd_cert_name(z.certs[i].der, z.certs[i].der_len, NID_userId, uid, sizeof(uid)) < 0)
            goto out;
        if (tpsd_cert_name(z.certs[i].der, z.certs[i].der_len, NID_commonName, cn, sizeof(cn)) < 0)
            snprintf(cn, sizeof(cn), "%s", uid);
        der[n] = tpsd_issue_cert(op, &key, usage, uid, cn, &len);
        if (!der[n]) {
            rc = TPSD_ST_CA_RESPONSE;
            goto out;
        }
        certs[n] = (struct z0_cert){.der = der[n],
                                    .der_len = len,
                                    .label = z.certs[i].label[0] ? z.certs[i].label : "Certificate",
                                    .cert_index = z.certs[i].index,
                                    .usage = usage == 1 ? Z0_SIGNING : Z0_ENCRYPTION};
        n++;
    }
    if (n == 0)
        goto out;
    if (tpsd_card_open_channel(k) < 0) {
        rc = tpsd_op_err(op, TPSD_ST_SECURE_CHANNEL);
        goto out;
    }
    if (tpsd_op_status(op, 92, "PROGRESS_WRITE_OBJECTS") < 0) {
        rc = tpsd_op_err(op, TPSD_ST_CONN_LOST);
        goto out;
    }
    rc = tpsd_write_z0(op, certs, n, (uint16_t)(z.object_version + 1));
    if (rc == 0)
        rc = tpsd_op_finish_personalization(op);
    if (rc == 0) {
        op->token.certs[0] = '\0';
        for (size_t i = 0; i < n; i++)
            tpsd_note_cert(op, certs[i].der, certs[i].der_len);
        rc = tpsd_op_save_token(op, TS_ACTIVE, op->token.owner);
    }
    if (rc == 0 && tpsd_op_status(op, 100, "PROGRESS_DONE_RENEWAL") < 0)
        rc = tpsd_op_err(op, TPSD_ST_CONN_LOST);
    if (rc == 0)
        tpsd_log(op->id, "%zu certificate(s) renewed", n);
out:
    for (size_t i = 0; i < n; i++)
        free(der[i]);
    tpsd_z0_free(&z);
    return rc;
}
