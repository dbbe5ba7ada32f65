/* tls_anchors: one parsed trust store per CA file, read again when its files change (see
 * tls_anchors.h for the rule). */
#include "tls_anchors.h"

#include <errno.h>
#include <stdbool.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define ANCHORS_MAX    4 /* distinct CA files in one process (one esc.conf: one, two with diag) */
#define ANCHORS_PATH   4096
#define DEFAULT_CAPATH "/etc/ssl/certs"

/* What the rule compares: the stat fields that change when a file or directory does. */
struct file_id {
    bool ok;   /* stat succeeded */
    int error; /* else its errno */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

struct tls_anchors {
    pthread_mutex_t mu;
    char file[ANCHORS_PATH]; /* the CA file (esc.conf's ca_file, or the system bundle) */
    char dir[ANCHORS_PATH];  /* the hashed system directory */
    bool system;             /* file is libcurl's system bundle (no ca_file) */
    X509_STORE *store;       /* NULL until read */
    struct file_id fid, did; /* as they were when read */
    time_t read_at;          /* CLOCK_REALTIME seconds (compared with mtimes) */
    bool racy;               /* a file was younger than TLS_ANCHORS_RACY_S when read */
    unsigned long gen;       /* 0: never read */
};

static struct tls_anchors table[ANCHORS_MAX];
static size_t table_n;
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

static void file_id_of(const char *path, struct file_id *id)
{
    struct stat st;
    memset(id, 0, sizeof *id);
    if (stat(path, &st) != 0) {
        id->error = errno;
        return;
    }
    id->ok = true;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->size = st.st_size;
    id->mtime = st.st_mtim;
    id->ctime = st.st_ctim;
}

static bool ts_eq(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool file_id_eq(const struct file_id *a, const struct file_id *b)
{
    return a->ok == b->ok && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           ts_eq(a->mtime, b->mtime) && ts_eq(a->ctime, b->ctime);
}

/* Modified so recently that another edit in the same timestamp tick would go unseen (an edit
 * moves mtime and ctime alike; ctime alone moves for a chmod, which changes no anchor). */
static bool young(const struct file_id *id, time_t now)
{
    return id->ok && id->mtime.tv_sec >= now - TLS_ANCHORS_RACY_S;
}

static const curl_version_info_data *curl_vi;
static pthread_once_t curl_vi_once = PTHREAD_ONCE_INIT;

static void curl_vi_init(void)
{
    curl_vi = curl_version_info(CURLVERSION_NOW); /* static data; building it costs 4,000 insns */
}

struct tls_anchors *tls_anchors_get(const char *ca_file)
{
    pthread_once(&curl_vi_once, curl_vi_init);
    const curl_version_info_data *vi = curl_vi;
    bool system = !ca_file || !*ca_file;
    struct tls_anchors *a = NULL;

    /* the callback hands libcurl's SSL_CTX to OpenSSL: only with libcurl's OpenSSL backend */
    if (!vi || !vi->ssl_version || strncmp(vi->ssl_version, "OpenSSL/", 8) != 0)
        return NULL;
    const char *file = system ? vi->cainfo : ca_file;
    const char *dir = vi->capath ? vi->capath : DEFAULT_CAPATH;
    if (!file || !*file || strlen(file) >= ANCHORS_PATH || strlen(dir) >= ANCHORS_PATH)
        return NULL;
    pthread_mutex_lock(&table_mu);
    for (size_t i = 0; i < table_n && !a; i++)
        if (strcmp(table[i].file, file) == 0 && strcmp(table[i].dir, dir) == 0)
            a = &table[i];
    if (!a && table_n < ANCHORS_MAX) {
        a = &table[table_n++];
        pthread_mutex_init(&a->mu, NULL);
        snprintf(a->file, sizeof a->file, "%s", file);
        snprintf(a->dir, sizeof a->dir, "%s", dir);
        a->system = system;
    }
    pthread_mutex_unlock(&table_mu);
    return a;
}

/* A new store from the files, as libcurl would fill its own (populate_x509_store): the CA
 * file (certificates and CRLs), the hashed directory looked up lazily, TRUSTED_FIRST and
 * PARTIAL_CHAIN. */
static X509_STORE *read_store(const struct tls_anchors *a, char *err, size_t errlen)
{
    X509_STORE *s = X509_STORE_new();
    if (!s) {
        snprintf(err, errlen, "The trust anchors could not be loaded (out of memory).");
        return NULL;
    }
    if (X509_STORE_load_file(s, a->file) != 1) {
        snprintf(err, errlen, "The CA file %s cannot be read as PEM certificates.", a->file);
        X509_STORE_free(s);
        return NULL;
    }
    (void)X509_STORE_load_path(s, a->dir); /* a missing directory adds nothing, as in libcurl */
    X509_STORE_set_flags(s, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
    return s;
}

/* Called with a->mu held. */
static int refresh_locked(struct tls_anchors *a, char *err, size_t errlen)
{
    struct file_id fid, did;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    file_id_of(a->file, &fid);
    file_id_of(a->dir, &did);
    if (a->store && !a->racy && now.tv_sec - a->read_at < TLS_ANCHORS_MAX_AGE_S &&
        now.tv_sec >= a->read_at && file_id_eq(&fid, &a->fid) && file_id_eq(&did, &a->did))
        return 0;
    if (!fid.ok) {
        snprintf(err, errlen, "The CA file %s cannot be read: %s.", a->file, strerror(fid.error));
        return -1; /* the old store is not used either: the file the admin named is gone */
    }
    X509_STORE *s = read_store(a, err, errlen);
    if (!s)
        return -1;
    X509_STORE_free(a->store);
    a->store = s;
    a->fid = fid;
    a->did = did;
    a->read_at = now.tv_sec;
    a->racy = young(&fid, now.tv_sec) || young(&did, now.tv_sec);
    a->gen++;
    return 0;
}

int tls_anchors_refresh(struct tls_anchors *a, unsigned long *gen, char *err, size_t errlen)
{
    char dummy[8];
    if (!err || !errlen)
        err = dummy, errlen = sizeof dummy;
    if (!a)
        return -1;
    pthread_mutex_lock(&a->mu);
    int rc = refresh_locked(a, err, errlen);
    if (gen)
        *gen = a->gen;
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int tls_anchors_current(struct tls_anchors *a, X509_STORE **store, unsigned long *gen, char *err,
                        size_t errlen)
{
    *store = NULL;
    if (!a)
        return -1;
    pthread_mutex_lock(&a->mu);
    int rc = refresh_locked(a, err, errlen);
    if (rc == 0 && X509_STORE_up_ref(a->store) == 1) {
        *store = a->store;
    } else if (rc == 0) {
        snprintf(err, errlen, "The trust anchors could not be loaded (out of memory).");
        rc = -1;
    }
    *gen = a->gen;
    pthread_mutex_unlock(&a->mu);
    return rc;
}

/* libcurl calls this with the SSL_CTX of a new connection, after its own (empty) store set-up
 * and before the handshake. */
static CURLcode ssl_ctx_cb(CURL *h, void *sslctx, void *ud)
{
    struct tls_anchors *a = ud;
    char err[ANCHORS_PATH + 96];
    CURLcode rc = CURLE_OK;
    (void)h;
    pthread_mutex_lock(&a->mu);
    if (refresh_locked(a, err, sizeof err) < 0)
        rc = CURLE_SSL_CACERT_BADFILE; /* what libcurl says of an unreadable CAINFO */
    else
        SSL_CTX_set1_cert_store(sslctx, a->store); /* a reference: the store outlives a reread */
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int tls_anchors_use(CURL *h, struct tls_anchors *a)
{
    if (!h || !a)
        return -1;
    if (curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb) != CURLE_OK)
        return -1;
    if (curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, a) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CAINFO, NULL) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL) != CURLE_OK) {
        (void)curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, NULL);
        return -1;
    }
    return 0;
}

int tls_anchors_verify_pem(struct tls_anchors *a, const char *leaf_pem)
{
    char err[ANCHORS_PATH + 96];
    int ok = -1;
    BIO *b = BIO_new_mem_buf(leaf_pem, -1);
    X509 *leaf = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!leaf || !a)
        goto out;
    pthread_mutex_lock(&a->mu);
    X509_STORE_CTX *vc = refresh_locked(a, err, sizeof err) == 0 ? X509_STORE_CTX_new() : NULL;
    if (vc && X509_STORE_CTX_init(vc, a->store, leaf, NULL) == 1)
        ok = X509_verify_cert(vc) == 1;
    X509_STORE_CTX_free(vc);
    pthread_mutex_unlock(&a->mu);
out:
    X509_free(leaf);
    return ok;
}
