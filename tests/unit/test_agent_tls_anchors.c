/* test_agent_tls_anchors: the process-wide trust anchors (agent/engine/tls_anchors.h) are read
 * once, and read again whenever the CA file changes, so that a CA the admin removed is no
 * longer trusted by the long-lived agent. Certificates are made here with OpenSSL. */
#include "check.h"
#include "engine/tls_anchors.h"
#include "testcert.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct pair {
    char ca_pem[4096];
    char leaf_pem[4096];
};

static int pem_of(X509 *x, char *out, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    long n;
    if (!b || PEM_write_bio_X509(b, x) != 1)
        return -1;
    n = BIO_get_mem_data(b, &p);
    if (n <= 0 || (size_t)n >= cap) {
        BIO_free(b);
        return -1;
    }
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    BIO_free(b);
    return 0;
}

/* A CA and a leaf it signed, as PEM. */
static int make_pair(const char *name, struct pair *p)
{
    EVP_PKEY *ck = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *lk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char cn[64];
    snprintf(cn, sizeof cn, "%s CA", name);
    X509 *ca = testcert_make(cn, NULL, ck, NULL, NULL, true);
    X509 *leaf = testcert_make("tps.example.com", NULL, lk, ca, ck, false);
    int rc =
        pem_of(ca, p->ca_pem, sizeof p->ca_pem) | pem_of(leaf, p->leaf_pem, sizeof p->leaf_pem);
    X509_free(ca);
    X509_free(leaf);
    EVP_PKEY_free(ck);
    EVP_PKEY_free(lk);
    return rc;
}

static struct pair A, B;
static char dir[] = "/tmp/test_tls_anchors.XXXXXX";

static int write_file(const char *path, const char *text, time_t mtime)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    if (fclose(f) != 0)
        return -1;
    if (mtime) {
        struct timespec t[2] = {{.tv_sec = mtime}, {.tv_sec = mtime}};
        return utimensat(AT_FDCWD, path, t, 0);
    }
    return 0;
}

/* An edit of the file is seen, even one that puts the old mtime back; between edits the
 * store is not read again. */
static void test_reread_on_change(void)
{
    char path[128], err[256];
    unsigned long g1 = 0, g2 = 0, g3 = 0;
    time_t old = time(NULL) - 100;
    snprintf(path, sizeof path, "%s/ca.pem", dir);
    EXPECT_EQ(write_file(path, A.ca_pem, old), 0);
    struct tls_anchors *a = tls_anchors_get(path);
    EXPECT(a != NULL);
    EXPECT(tls_anchors_get(path) == a); /* one entry per file */
    EXPECT_EQ(tls_anchors_refresh(a, &g1, err, sizeof err), 0);
    EXPECT_EQ(tls_anchors_verify_pem(a, A.leaf_pem), 1);
    EXPECT_EQ(tls_anchors_verify_pem(a, B.leaf_pem), 0);
    EXPECT_EQ(tls_anchors_refresh(a, &g2, err, sizeof err), 0);
    EXPECT_EQ(g2, g1); /* unchanged: not read again */

    /* the admin swaps CA A for CA B in place and even restores the mtime: ctime moves */
    EXPECT_EQ(write_file(path, B.ca_pem, old), 0);
    EXPECT_EQ(tls_anchors_refresh(a, &g2, err, sizeof err), 0);
    EXPECT(g2 != g1);
    EXPECT_EQ(tls_anchors_verify_pem(a, A.leaf_pem), 0); /* the removed CA is not trusted */
    EXPECT_EQ(tls_anchors_verify_pem(a, B.leaf_pem), 1);

    /* replaced by rename (an atomic write): a new inode */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    EXPECT_EQ(write_file(tmp, A.ca_pem, old), 0);
    EXPECT_EQ(rename(tmp, path), 0);
    EXPECT_EQ(tls_anchors_verify_pem(a, A.leaf_pem), 1);
    EXPECT_EQ(tls_anchors_verify_pem(a, B.leaf_pem), 0);
    EXPECT_EQ(tls_anchors_refresh(a, &g3, err, sizeof err), 0);
    EXPECT(g3 != g2);
}

/* A file modified a moment ago may change again within the same timestamp: it is read again
 * at each use until it is older than TLS_ANCHORS_RACY_S. */
static void test_young_file_reread(void)
{
    char path[128], err[256];
    unsigned long g1 = 0, g2 = 0;
    snprintf(path, sizeof path, "%s/young.pem", dir);
    EXPECT_EQ(write_file(path, A.ca_pem, 0), 0);
    struct tls_anchors *a = tls_anchors_get(path);
    EXPECT(a != NULL);
    EXPECT_EQ(tls_anchors_refresh(a, &g1, err, sizeof err), 0);
    /* nothing changed, but an edit of the same size within the same tick would look the same */
    EXPECT_EQ(tls_anchors_refresh(a, &g2, err, sizeof err), 0);
    EXPECT(g2 != g1);
}

/* The file removed: no store at all (not the old one), one sentence naming the file. */
static void test_file_removed(void)
{
    char path[128], err[256] = "";
    unsigned long g = 0;
    snprintf(path, sizeof path, "%s/gone.pem", dir);
    EXPECT_EQ(write_file(path, A.ca_pem, time(NULL) - 100), 0);
    struct tls_anchors *a = tls_anchors_get(path);
    EXPECT(a != NULL);
    EXPECT_EQ(tls_anchors_verify_pem(a, A.leaf_pem), 1);
    EXPECT_EQ(unlink(path), 0);
    EXPECT_EQ(tls_anchors_refresh(a, &g, err, sizeof err), -1);
    EXPECT(strstr(err, path) != NULL);
    EXPECT_EQ(tls_anchors_verify_pem(a, A.leaf_pem), -1);
    /* garbage in its place: refused the same way */
    EXPECT_EQ(write_file(path, "not a certificate\n", time(NULL) - 100), 0);
    EXPECT_EQ(tls_anchors_refresh(a, &g, err, sizeof err), -1);
    EXPECT_EQ(tls_anchors_verify_pem(a, A.leaf_pem), -1);
}

int main(void)
{
    if (!mkdtemp(dir) || make_pair("A", &A) != 0 || make_pair("B", &B) != 0) {
        printf("FAIL: setup: no temporary directory or certificates\n");
        return 1;
    }
    RUN(test_reread_on_change);
    RUN(test_young_file_reread);
    RUN(test_file_removed);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("FAIL: cleanup: %s\n", dir);
    return check_status();
}
