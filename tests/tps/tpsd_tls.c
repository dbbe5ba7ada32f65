/* tpsd_tls: server certificate from the test CA and the SSL_CTX. */
#include "tpsd_tls.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "tpsd_log.h"

static void *read_pem(const char *dir, const char *name, int key)
{
    char path[4096];
    FILE *fp;
    void *obj;
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return NULL;
    fp = fopen(path, "re");
    if (!fp) {
        tpsd_log(0, "cannot open %s", path);
        return NULL;
    }
    obj = key ? (void *)PEM_read_PrivateKey(fp, NULL, NULL, NULL)
              : (void *)PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    if (!obj)
        tpsd_log(0, "cannot parse %s", path);
    return obj;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    int ok;
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ext)
        return -1;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* Issues the server certificate for `key`. */
static X509 *issue_server_cert(EVP_PKEY *key, X509 *ca_cert, EVP_PKEY *ca_key)
{
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    unsigned char serial[12];
    BIGNUM *bn = NULL;
    int ok = 0;
    if (!cert || !name || RAND_bytes(serial, sizeof(serial)) != 1)
        goto out;
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
        goto out;
    X509_set_version(cert, 2);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"pam_esc rig", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1,
                               0);
    if (!X509_set_subject_name(cert, name) ||
        !X509_set_issuer_name(cert, X509_get_subject_name(ca_cert)) ||
        !X509_gmtime_adj(X509_getm_notBefore(cert), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 24 * 3600) || !X509_set_pubkey(cert, key))
        goto out;
    if (add_ext(cert, ca_cert, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
        add_ext(cert, ca_cert, NID_key_usage, "critical,digitalSignature,keyEncipherment") < 0 ||
        add_ext(cert, ca_cert, NID_ext_key_usage, "serverAuth") < 0 ||
        add_ext(cert, ca_cert, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") < 0)
        goto out;
    if (!X509_sign(cert, ca_key, EVP_sha256()))
        goto out;
    ok = 1;
out:
    BN_free(bn);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(cert);
        cert = NULL;
    }
    return cert;
}

SSL_CTX *tpsd_tls_context(const char *ca_dir, const char *cert_out)
{
    SSL_CTX *ctx = NULL;
    X509 *ca_cert = read_pem(ca_dir, "ca.cert.pem", 0), *cert = NULL;
    EVP_PKEY *ca_key = read_pem(ca_dir, "ca.key.pem", 1), *key = NULL;
    int ok = 0;
    if (!ca_cert || !ca_key)
        goto out;
    key = EVP_EC_gen("P-256");
    if (!key)
        goto out;
    cert = issue_server_cert(key, ca_cert, ca_key);
    if (!cert)
        goto out;
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_add1_chain_cert(ctx, ca_cert) != 1 || SSL_CTX_check_private_key(ctx) != 1)
        goto out;
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (cert_out) {
        FILE *fp = fopen(cert_out, "we");
        if (fp) {
            PEM_write_X509(fp, cert);
            fclose(fp);
        }
    }
    ok = 1;
out:
    if (!ok) {
        unsigned long e = ERR_get_error();
        tpsd_log(0, "TLS setup failed: %s", e ? ERR_reason_error_string(e) : "missing CA files");
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
    ERR_clear_error();
    X509_free(cert);
    X509_free(ca_cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    return ctx;
}
