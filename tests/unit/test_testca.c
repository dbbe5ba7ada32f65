/* The test CA: created once (0600 key), reopened, shared by concurrent openers, and issues
 * certificates OpenSSL verifies against it with the subject, validity and usages asked for. */
#include "check.h"
#include "testca.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/esc-testca.XXXXXX";

static X509 *load_cert(const char *d)
{
    char p[256];
    snprintf(p, sizeof p, "%s/ca.cert.pem", d);
    FILE *f = fopen(p, "r");
    X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return c;
}

/* Issues a certificate for a fresh RSA key and returns it parsed. */
static X509 *issue(struct testca *ca, enum testca_usage u, time_t nb, time_t na)
{
    EVP_PKEY *k = EVP_RSA_gen(1024);
    BIGNUM *n = NULL, *e = NULL;
    uint8_t mod[512], ex[8];
    EVP_PKEY_get_bn_param(k, "n", &n);
    EVP_PKEY_get_bn_param(k, "e", &e);
    int ml = BN_bn2bin(n, mod), el = BN_bn2bin(e, ex);
    size_t len = 0;
    uint8_t *der =
        testca_issue(ca, mod, (size_t)ml, ex, (size_t)el, "jsmith", "John Smith", u, nb, na, &len);
    const unsigned char *p = der;
    X509 *c = der ? d2i_X509(NULL, &p, (long)len) : NULL;
    /* the certified key is the one given */
    if (c && EVP_PKEY_eq(X509_get0_pubkey(c), k) != 1) {
        X509_free(c);
        c = NULL;
    }
    free(der);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(k);
    return c;
}

static void creates_then_reopens_the_same_ca(void)
{
    struct testca *ca = testca_open(dir);
    EXPECT(ca != NULL);
    testca_close(ca);
    char p[256];
    struct stat st;
    snprintf(p, sizeof p, "%s/ca.key.pem", dir);
    EXPECT(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
    X509 *c1 = load_cert(dir);
    EXPECT(c1 != NULL);
    EXPECT(X509_check_ca(c1) == 1);
    EXPECT(X509_verify(c1, X509_get0_pubkey(c1)) == 1); /* self-signed */
    ca = testca_open(dir);
    EXPECT(ca != NULL);
    testca_close(ca);
    X509 *c2 = load_cert(dir);
    EXPECT(c2 && X509_cmp(c1, c2) == 0);
    X509_free(c1);
    X509_free(c2);
}

static void two_processes_creating_at_once_share_one_ca(void)
{
    char d[] = "/tmp/esc-testca2.XXXXXX";
    EXPECT(mkdtemp(d) != NULL);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/ca", d);
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            struct testca *ca = testca_open(sub);
            _exit(ca ? 0 : 1);
        }
    }
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        int st = 0;
        if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            ok = 0;
    }
    EXPECT(ok);
    struct testca *ca = testca_open(sub); /* loads: the key matches the certificate */
    EXPECT(ca != NULL);
    testca_close(ca);
    snprintf(sub, sizeof sub, "rm -rf %s", d);
    EXPECT(system(sub) == 0);
}

static void a_lone_certificate_is_not_overwritten(void)
{
    char d[] = "/tmp/esc-testca3.XXXXXX", p[300];
    EXPECT(mkdtemp(d) != NULL);
    snprintf(p, sizeof p, "%s/ca.cert.pem", d);
    FILE *f = fopen(p, "w");
    EXPECT(f != NULL);
    fputs("not a certificate\n", f);
    fclose(f);
    EXPECT(testca_open(d) == NULL);
    snprintf(p, sizeof p, "%s/ca.key.pem", d);
    EXPECT(access(p, F_OK) != 0);
    snprintf(p, sizeof p, "rm -rf %s", d);
    EXPECT(system(p) == 0);
}

static int has_eku(X509 *c, int nid)
{
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(c, NID_ext_key_usage, NULL, NULL);
    int found = 0;
    for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++)
        if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == nid)
            found = 1;
    EXTENDED_KEY_USAGE_free(eku);
    return found;
}

static void issued_certificate_verifies_and_names_the_user(void)
{
    struct testca *ca = testca_open(dir);
    time_t now = time(NULL);
    X509 *c = issue(ca, TESTCA_SIGNING, now - 60, now + 86400);
    X509 *cac = load_cert(dir);
    EXPECT(c && cac);
    EXPECT(X509_verify(c, X509_get0_pubkey(cac)) == 1);
    EXPECT(X509_get_signature_nid(c) == NID_sha256WithRSAEncryption);
    EXPECT(X509_get_version(c) == 2);
    char sub[256];
    X509_NAME_oneline(X509_get_subject_name(c), sub, sizeof sub);
    EXPECT_STR(sub, "/O=pam_esc rig/CN=John Smith/UID=jsmith");
    EXPECT(X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(cac)) == 0);
    EXPECT(X509_check_issued(cac, c) == X509_V_OK);
    time_t nb = now - 60, na = now + 86400;
    EXPECT(ASN1_TIME_cmp_time_t(X509_get0_notBefore(c), nb) == 0);
    EXPECT(ASN1_TIME_cmp_time_t(X509_get0_notAfter(c), na) == 0);
    EXPECT(X509_check_ca(c) == 0); /* basicConstraints CA:FALSE */
    EXPECT(X509_get_extension_flags(c) & EXFLAG_BCONS);
    EXPECT(X509_get_key_usage(c) == (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION));
    EXPECT(has_eku(c, NID_client_auth) && has_eku(c, NID_email_protect));
    EXPECT(X509_get0_subject_key_id(c) != NULL);
    const ASN1_INTEGER *sn = X509_get0_serialNumber(c);
    EXPECT(sn->length >= 15 && sn->length <= 16 && !(sn->type & V_ASN1_NEG));

    X509 *e = issue(ca, TESTCA_ENCRYPTION, now - 60, now + 86400);
    EXPECT(e != NULL);
    EXPECT(X509_get_key_usage(e) == (KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT));
    EXPECT(!has_eku(e, NID_client_auth));
    EXPECT(ASN1_INTEGER_cmp(X509_get0_serialNumber(c), X509_get0_serialNumber(e)) != 0);
    X509_free(e);
    X509_free(c);
    X509_free(cac);
    testca_close(ca);
}

static void expired_validity_is_kept(void)
{
    struct testca *ca = testca_open(dir);
    time_t now = time(NULL), nb = now - 400 * 86400, na = now - 30 * 86400;
    X509 *c = issue(ca, TESTCA_SIGNING, nb, na);
    EXPECT(c != NULL);
    EXPECT(ASN1_TIME_cmp_time_t(X509_get0_notAfter(c), na) == 0);
    EXPECT(ASN1_TIME_cmp_time_t(X509_get0_notBefore(c), nb) == 0);
    EXPECT(X509_cmp_time(X509_get0_notAfter(c), &now) < 0);
    X509_free(c);
    testca_close(ca);
}

static void refuses_bad_input(void)
{
    struct testca *ca = testca_open(dir);
    uint8_t mod[128] = {0xC0}, ex[3] = {1, 0, 1};
    size_t len = 0;
    EXPECT(ca != NULL);
    EXPECT(testca_issue(ca, mod, 0, ex, 3, "u", "c", TESTCA_SIGNING, 0, 1, &len) == NULL);
    EXPECT(testca_issue(ca, mod, sizeof mod, ex, 3, NULL, "c", TESTCA_SIGNING, 0, 1, &len) == NULL);
    testca_close(ca);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(creates_then_reopens_the_same_ca);
    RUN(two_processes_creating_at_once_share_one_ca);
    RUN(a_lone_certificate_is_not_overwritten);
    RUN(issued_certificate_verifies_and_names_the_user);
    RUN(expired_validity_is_kept);
    RUN(refuses_bad_input);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return check_status();
}
