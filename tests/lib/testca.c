/* testca.c: the rig's test certificate authority, on OpenSSL libcrypto. */
#include "testca.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct testca {
    EVP_PKEY *key;
    X509 *cert;
};

/* Writes a PEM object to dir/name atomically (temp file, fsync, rename) with `mode`. */
static int write_pem(const char *dir, const char *name, mode_t mode, int (*emit)(FILE *, void *),
                     void *obj)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
        snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    int ok = emit(f, obj) && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int emit_key(FILE *f, void *k)
{
    return PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
}

static int emit_cert(FILE *f, void *c)
{
    return PEM_write_X509(f, c);
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return 0;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static int random_serial(X509 *cert)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return 0;
    b[0] &= 0x7f; /* positive */
    b[0] |= 0x01; /* and not shortened by a leading zero */
    BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    return ok;
}

static struct testca *create(const char *dir)
{
    struct testca *ca = calloc(1, sizeof *ca);
    X509_NAME *name = NULL;
    if (!ca)
        return NULL;
    ca->key = EVP_RSA_gen(2048);
    ca->cert = X509_new();
    if (!ca->key || !ca->cert)
        goto fail;
    name = X509_NAME_new();
    if (!name ||
        !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"pam_esc rig",
                                    -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"pam_esc Test CA", -1, -1, 0))
        goto fail;
    if (!X509_set_version(ca->cert, 2) || !random_serial(ca->cert) ||
        !X509_set_subject_name(ca->cert, name) || !X509_set_issuer_name(ca->cert, name) ||
        !X509_gmtime_adj(X509_getm_notBefore(ca->cert), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(ca->cert), 20L * 365 * 24 * 3600) ||
        !X509_set_pubkey(ca->cert, ca->key) ||
        !add_ext(ca->cert, ca->cert, NID_basic_constraints, "critical,CA:TRUE") ||
        !add_ext(ca->cert, ca->cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !add_ext(ca->cert, ca->cert, NID_subject_key_identifier, "hash") ||
        !X509_sign(ca->cert, ca->key, EVP_sha256()))
        goto fail;
    X509_NAME_free(name);
    name = NULL;
    /* the key first: a directory with a certificate but no key is never left behind */
    if (write_pem(dir, "ca.key.pem", 0600, emit_key, ca->key) != 0 ||
        write_pem(dir, "ca.cert.pem", 0644, emit_cert, ca->cert) != 0)
        goto fail;
    return ca;
fail:
    fprintf(stderr, "testca: cannot create a CA in %s\n", dir);
    X509_NAME_free(name);
    testca_close(ca);
    return NULL;
}

static struct testca *load(const char *kp, const char *cp, const char *dir)
{
    struct testca *ca = calloc(1, sizeof *ca);
    if (!ca)
        return NULL;
    FILE *f = fopen(kp, "re");
    if (f) {
        ca->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    f = fopen(cp, "re");
    if (f) {
        ca->cert = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (!ca->key || !ca->cert || X509_check_private_key(ca->cert, ca->key) != 1) {
        fprintf(stderr, "testca: %s does not hold a usable CA (ca.key.pem, ca.cert.pem)\n", dir);
        testca_close(ca);
        return NULL;
    }
    return ca;
}

struct testca *testca_open(const char *dir)
{
    char kp[PATH_MAX], cp[PATH_MAX], lp[PATH_MAX];
    struct testca *ca = NULL;
    if (snprintf(kp, sizeof kp, "%s/ca.key.pem", dir) >= (int)sizeof kp ||
        snprintf(cp, sizeof cp, "%s/ca.cert.pem", dir) >= (int)sizeof cp ||
        snprintf(lp, sizeof lp, "%s/.ca.lock", dir) >= (int)sizeof lp) {
        fprintf(stderr, "testca: path too long: %s\n", dir);
        return NULL;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "testca: cannot create %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    /* The card's provisioning and the TPS may open the same directory at once: without the
     * lock both could create a CA and leave one's key beside the other's certificate. */
    int lock = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) {
        fprintf(stderr, "testca: cannot lock %s: %s\n", lp, strerror(errno));
        if (lock >= 0)
            close(lock);
        return NULL;
    }
    if (access(kp, F_OK) != 0 && access(cp, F_OK) != 0)
        ca = create(dir);
    else
        ca = load(kp, cp, dir);
    close(lock);
    return ca;
}

void testca_close(struct testca *ca)
{
    if (!ca)
        return;
    EVP_PKEY_free(ca->key);
    X509_free(ca->cert);
    free(ca);
}

static EVP_PKEY *rsa_public(const uint8_t *mod, size_t mod_len, const uint8_t *exp, size_t exp_len)
{
    EVP_PKEY *pk = NULL;
    BIGNUM *n = BN_bin2bn(mod, (int)mod_len, NULL), *e = BN_bin2bn(exp, (int)exp_len, NULL);
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *p = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!n || !e || !b || !ctx || !OSSL_PARAM_BLD_push_BN(b, "n", n) ||
        !OSSL_PARAM_BLD_push_BN(b, "e", e) || !(p = OSSL_PARAM_BLD_to_param(b)) ||
        EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, p) <= 0)
        pk = NULL;
    OSSL_PARAM_free(p);
    OSSL_PARAM_BLD_free(b);
    EVP_PKEY_CTX_free(ctx);
    BN_free(n);
    BN_free(e);
    return pk;
}

uint8_t *testca_issue(struct testca *ca, const uint8_t *modulus, size_t mod_len,
                      const uint8_t *exponent, size_t exp_len, const char *uid, const char *cn,
                      enum testca_usage usage, time_t not_before, time_t not_after, size_t *der_len)
{
    uint8_t *der = NULL;
    X509 *cert = NULL;
    X509_NAME *name = NULL;
    EVP_PKEY *pub = NULL;
    if (!ca || !modulus || !exponent || !uid || !cn || !der_len || mod_len == 0 || mod_len > 1024 ||
        exp_len == 0 || exp_len > 16)
        return NULL;
    cert = X509_new();
    name = X509_NAME_new();
    pub = rsa_public(modulus, mod_len, exponent, exp_len);
    if (!cert || !name || !pub)
        goto out;
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"pam_esc rig",
                                    -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(name, "UID", MBSTRING_UTF8, (const unsigned char *)uid, -1, -1,
                                    0))
        goto out;
    const char *ku = usage == TESTCA_SIGNING ? "critical,digitalSignature,nonRepudiation"
                                             : "critical,keyEncipherment,dataEncipherment";
    if (!X509_set_version(cert, 2) || !random_serial(cert) || !X509_set_subject_name(cert, name) ||
        !X509_set_issuer_name(cert, X509_get_subject_name(ca->cert)) ||
        !ASN1_TIME_set(X509_getm_notBefore(cert), not_before) ||
        !ASN1_TIME_set(X509_getm_notAfter(cert), not_after) || !X509_set_pubkey(cert, pub) ||
        !add_ext(cert, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(cert, ca->cert, NID_key_usage, ku) ||
        !add_ext(cert, ca->cert, NID_subject_key_identifier, "hash") ||
        !add_ext(cert, ca->cert, NID_authority_key_identifier, "keyid:always"))
        goto out;
    if (usage == TESTCA_SIGNING &&
        !add_ext(cert, ca->cert, NID_ext_key_usage, "clientAuth,emailProtection"))
        goto out;
    if (!X509_sign(cert, ca->key, EVP_sha256()))
        goto out;
    int n = i2d_X509(cert, &der);
    if (n <= 0) {
        der = NULL;
        goto out;
    }
    *der_len = (size_t)n;
out:
    X509_free(cert);
    X509_NAME_free(name);
    EVP_PKEY_free(pub);
    return der;
}
