/* vc_provision.c: the card presets (see vc_provision.h). */
#include "vc_provision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>

#include "testca.h"
#include "z0.h"

#define DAY          (24L * 3600)
#define PIN0_ACL     0x0001
#define Z0_ACL_READ  0xFFFF
#define SIGN_CERT    1 /* c1, keys 2 (private) and 3 (public) */
#define ENCRYPT_CERT 2 /* c2, keys 4 and 5 */

static uint8_t *issue(struct testca *ca, EVP_PKEY *k, const char *user, enum testca_usage usage,
                      time_t nb, time_t na, size_t *len)
{
    BIGNUM *n = NULL, *e = NULL;
    uint8_t mod[VC_MAX_RSA_BITS / 8], ex[8], *der = NULL;
    char cn[128];
    if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) &&
        EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) &&
        BN_num_bytes(n) <= (int)sizeof(mod) && BN_num_bytes(e) <= (int)sizeof(ex)) {
        int ml = BN_bn2bin(n, mod), el = BN_bn2bin(e, ex);
        snprintf(cn, sizeof(cn), "%s", user);
        der = testca_issue(ca, mod, (size_t)ml, ex, (size_t)el, user, cn, usage, nb, na, len);
    }
    BN_free(n);
    BN_free(e);
    return der;
}

static int enroll(struct vc_card *c, const struct vc_provision_opts *o, bool expired)
{
    static const uint8_t Z0_ID[4] = {'z', '0', 0, 0};
    const uint16_t z0_acl[3] = {Z0_ACL_READ, VC_ID_RA, VC_ID_RA};
    uint8_t *der[2] = {NULL, NULL}, *z = NULL, cuid[10];
    size_t der_len[2] = {0, 0}, zl = 0, pl = strlen(o->pin);
    char name[96];
    int rc = -1;
    struct testca *ca = testca_open(o->ca_dir);
    if (!ca)
        return -1;
    time_t now = time(NULL);
    time_t nb = expired ? now - 400 * DAY : now - DAY;
    time_t na = expired         ? now - 30 * DAY
                : o->valid_days ? now + (time_t)o->valid_days * DAY
                                : now + 365 * DAY;
    if (pl < 4 || pl > VC_PIN_MAX) {
        fprintf(stderr, "vcard: the PIN must have 4 to %d characters\n", VC_PIN_MAX);
        goto out;
    }
    vc_pin_set(&c->pins[0], (const uint8_t *)o->pin, pl, o->pin_tries);
    if (o->pin_tries_left && o->pin_tries_left < o->pin_tries)
        c->pins[0].tries_left = o->pin_tries_left;
    if (vc_key_generate(c, 2 * SIGN_CERT, 2 * SIGN_CERT + 1, o->key_bits, PIN0_ACL) != SW_OK ||
        vc_key_generate(c, 2 * ENCRYPT_CERT, 2 * ENCRYPT_CERT + 1, o->key_bits, PIN0_ACL) !=
            SW_OK) {
        fprintf(stderr, "vcard: RSA key generation failed\n");
        goto out;
    }
    der[0] = issue(ca, c->keys[2 * SIGN_CERT].pkey, o->user, TESTCA_SIGNING, nb, na, &der_len[0]);
    der[1] =
        issue(ca, c->keys[2 * ENCRYPT_CERT].pkey, o->user, TESTCA_ENCRYPTION, nb, na, &der_len[1]);
    if (!der[0] || !der[1]) {
        fprintf(stderr, "vcard: the test CA did not issue the certificates\n");
        goto out;
    }
    const struct z0_cert certs[2] = {
        {der[0], der_len[0], "Signing Key", SIGN_CERT, Z0_SIGNING},
        {der[1], der_len[1], "Encryption Key", ENCRYPT_CERT, Z0_ENCRYPTION},
    };
    vc_card_cuid(c, cuid);
    snprintf(name, sizeof(name), "%s's Token", o->user);
    z = z0_build(cuid, (uint16_t)(1 + (unsigned long)now % 999), name, certs, 2, 1, &zl);
    struct vc_object *obj = z ? vc_obj_add(c, Z0_ID, zl, z0_acl) : NULL;
    if (!obj) {
        fprintf(stderr, "vcard: the z0 object (%zu bytes) does not fit the applet memory\n", zl);
        goto out;
    }
    memcpy(obj->data, z, zl);
    c->lifecycle = VC_LC_PERSONALIZED;
    rc = 0;
out:
    free(der[0]);
    free(der[1]);
    free(z);
    testca_close(ca);
    return rc;
}

int vc_provision(struct vc_card *c, const struct vc_provision_opts *o)
{
    uint8_t cuid[10] = {0x40, 0x90, 0x79, 0x00, 0x00, 0x01}; /* Axalto-style prefix */
    const char *ps = o->preset;
    bool enrolled =
        strcmp(ps, "enrolled") == 0 || strcmp(ps, "locked") == 0 || strcmp(ps, "expired") == 0;
    if (!enrolled && strcmp(ps, "blank") != 0 && strcmp(ps, "formatted") != 0) {
        fprintf(stderr, "vcard: unknown preset '%s' (blank formatted enrolled locked expired)\n",
                ps);
        return -1;
    }
    if (o->key_bits != 1024 && o->key_bits != 2048) {
        fprintf(stderr, "vcard: key size must be 1024 or 2048 bits\n");
        return -1;
    }
    vc_card_init(c);
    c->scp = o->scp;
    if (o->cuid)
        memcpy(cuid, o->cuid, 10);
    else if (!vc_random(cuid + 6, 4))
        return -1;
    vc_cplc_build(cuid, c->cplc);
    if (strcmp(ps, "blank") == 0)
        return 0;
    c->package_loaded = c->applet_installed = true;
    vc_applet_wipe(c, VC_DEFAULT_MEM);
    size_t ul = o->phone_home ? strlen(o->phone_home) : 0;
    if (ul > VC_ISSUER_LEN) {
        fprintf(stderr, "vcard: the phone-home URL is longer than %d bytes\n", VC_ISSUER_LEN);
        return -1;
    }
    if (ul)
        memcpy(c->issuer, o->phone_home, ul);
    if (!enrolled)
        return 0;
    if (enroll(c, o, strcmp(ps, "expired") == 0) != 0)
        return -1;
    if (strcmp(ps, "locked") == 0)
        c->pins[0].tries_left = 0;
    return 0;
}
