/* tpsd_renew: renewal inside an enrollment, as Dogtag's TPSEnrollProcessor.processRenewal does
 * it for an ACTIVE token whose policy allows RENEW: for each key type of the profile
 * (signing, encryption) whose op.enroll.<type>.renewal.<keyType>.enable is true, the card's
 * certificate of that type is re-issued by the test CA for the same public key (the keys stay
 * on the card, as a CA renewal profile keeps them), provided it is inside the grace period
 * when gracePeriod.enable is set. Dogtag takes the certificates from its certificate DB; this
 * TPS takes them from the card's z0 (what the rig's provisioned cards carry). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "z0.h"
#include "tpsd_keys.h"
#include "tpsd_log.h"
#include "tpsd_op.h"
#include "tpsd_renew.h"

/* Public key, key type and seconds from now to notAfter of an old certificate. 0 or -1. */
static int old_cert(const struct tpsd_z0cert *c, struct tpsd_pubkey *key, int *kt, long long *left)
{
    const unsigned char *p = c->der;
    X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
    EVP_PKEY *pk = x ? X509_get0_pubkey(x) : NULL;
    BIGNUM *n = NULL, *e = NULL;
    int days = 0, secs = 0, ret = -1;
    if (!pk || EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
        (size_t)BN_num_bytes(n) > sizeof(key->mod) || (size_t)BN_num_bytes(e) > sizeof(key->exp) ||
        ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) != 1)
        goto out;
    key->mod_len = (size_t)BN_bn2bin(n, key->mod);
    key->exp_len = (size_t)BN_bn2bin(e, key->exp);
    *kt = (X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE) ? KT_SIGNING : KT_ENCRYPTION;
    *left = (long long)days * 86400 + secs;
    ret = 0;
out:
    BN_free(n);
    BN_free(e);
    X509_free(x);
    return ret;
}

int tpsd_renew_in_grace(const struct tpsd_renewal *r, long long left)
{
    if (!r->grace_enable)
        return 1;
    if (left >= 0)
        return !(r->grace_before > 0 && left > (long long)r->grace_before * 86400);
    return !(r->grace_after > 0 && -left > (long long)r->grace_after * 86400);
}

int tpsd_renew_certs(struct tpsd_op *op, const struct tpsd_z0 *z, struct z0_cert *certs,
                     uint8_t **der, size_t *n_renewed)
{
    *n_renewed = 0;
    for (size_t i = 0; i < z->n_certs; i++) {
        const struct tpsd_z0cert *c = &z->certs[i];
        const struct tpsd_renewal *r;
        struct tpsd_pubkey key;
        char uid[128], cn[128];
        long long left;
        size_t len;
        int kt;
        der[i] = NULL;
        if (old_cert(c, &key, &kt, &left) < 0) {
            tpsd_log(op->id, "certificate %u on the card is unreadable", c->index);
            return TPSD_ST_RENEWAL_FAILED;
        }
        certs[i] = (struct z0_cert){.der = c->der,
                                    .der_len = c->der_len,
                                    .label = c->label[0] ? c->label : "Certificate",
                                    .cert_index = c->index,
                                    .usage = kt == KT_SIGNING ? Z0_SIGNING : Z0_ENCRYPTION};
        r = &op->cfg->renewal[op->type][kt];
        if (!r->enable) {
            tpsd_log(op->id, "%s certificate %u: renewal not enabled", tpsd_keytype_name(kt),
                     c->index);
            continue;
        }
        if (!tpsd_renew_in_grace(r, left)) {
            tpsd_log(op->id, "%s certificate %u: outside the grace period (%lld days to notAfter)",
                     tpsd_keytype_name(kt), c->index, left / 86400);
            continue;
        }
        if (tpsd_cert_name(c->der, c->der_len, NID_userId, uid, sizeof(uid)) < 0)
            return TPSD_ST_RENEWAL_FAILED;
        if (tpsd_cert_name(c->der, c->der_len, NID_commonName, cn, sizeof(cn)) < 0)
            snprintf(cn, sizeof(cn), "%s", uid);
        der[i] = tpsd_issue_cert(op, &key, kt == KT_SIGNING ? 1 : 2, uid, cn, &len);
        if (!der[i])
            return TPSD_ST_RENEWAL_FAILED; /* processRenewal: a failed renewal is 37 */
        certs[i].der = der[i];
        certs[i].der_len = len;
        (*n_renewed)++;
        tpsd_log(op->id, "%s certificate %u renewed for the same key", tpsd_keytype_name(kt),
                 c->index);
    }
    return 0;
}
