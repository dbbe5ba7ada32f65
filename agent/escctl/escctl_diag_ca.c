/* escctl diag: the certificate work of the login check (escctl_diag_login.h), with OpenSSL,
 * the library pam_pkcs11 (Debian's build) and SSSD's p11_child use, so that the answers are
 * theirs: the chain check through ca_dir's hash links (X509_LOOKUP_hash_dir, PEM and DER, as
 * pam_pkcs11's cert_vfy.c) or through the CA db file, the subject hash of a link's name
 * (X509_NAME_hash, what c_rehash / openssl rehash name links after), the name attributes the
 * mappers read, and --import-ca. The card's certificate and the fetched CA chain are hostile
 * input: DER and PEM are parsed by OpenSSL with lengths checked, nothing else is trusted. */
#include "escctl_diag_login.h"

#include "engine/tps_conv.h" /* tps_tls_setup */

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHAIN_MAX_BYTES (256 * 1024) /* a CA chain larger than this is refused */
#define CHAIN_DEPTH     8

static X509 *load(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    if (!der || len == 0 || len > 65536)
        return NULL;
    return d2i_X509(NULL, &p, (long)len);
}

static const char *strip_file_url(const char *s)
{
    return strncmp(s, "file://", 7) == 0 ? s + 7 : s;
}

int dca_verify(const uint8_t *der, size_t len, const char *ca_dir, const char *ca_file, char *why,
               size_t whycap, char *hash, size_t hashcap)
{
    X509 *x = load(der, len);
    X509_STORE *st = NULL;
    X509_STORE_CTX *ctx = NULL;
    int rc = 0;

    why[0] = '\0';
    hash[0] = '\0';
    if (!x)
        return -1;
    snprintf(hash, hashcap, "%08lx", X509_issuer_name_hash(x));
    st = X509_STORE_new();
    ctx = X509_STORE_CTX_new();
    if (!st || !ctx) {
        snprintf(why, whycap, "OpenSSL could not start");
        goto out;
    }
    if (ca_dir) {
        struct stat sb;
        const char *dir = strip_file_url(ca_dir);
        X509_LOOKUP *lk;
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(why, whycap, "the directory %s does not exist", dir);
            goto out;
        }
        lk = X509_STORE_add_lookup(st, X509_LOOKUP_hash_dir());
        if (!lk || X509_LOOKUP_add_dir(lk, dir, X509_FILETYPE_PEM) != 1 ||
            X509_LOOKUP_add_dir(lk, dir, X509_FILETYPE_ASN1) != 1) {
            snprintf(why, whycap, "%s cannot be used as a hash directory", dir);
            goto out;
        }
    }
    if (ca_file && X509_STORE_load_locations(st, ca_file, NULL) != 1) {
        snprintf(why, whycap, "%s holds no readable PEM certificate", ca_file);
        goto out;
    }
    if (X509_STORE_CTX_init(ctx, st, x, NULL) != 1) {
        snprintf(why, whycap, "OpenSSL could not start");
        goto out;
    }
    if (X509_verify_cert(ctx) == 1) {
        rc = 1;
    } else {
        int e = X509_STORE_CTX_get_error(ctx);
        snprintf(why, whycap, "%s", X509_verify_cert_error_string(e));
    }
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    X509_free(x);
    return rc;
}

static void name_rfc2253(const X509_NAME *n, char *out, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    int got = 0;
    out[0] = '\0';
    if (!b)
        return;
    if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
        got = BIO_read(b, out, (int)cap - 1);
    out[got > 0 ? got : 0] = '\0';
    BIO_free(b);
}

int dca_names(const uint8_t *der, size_t len, char *issuer, size_t icap, char *subject, size_t scap)
{
    X509 *x = load(der, len);
    if (!x)
        return -1;
    name_rfc2253(X509_get_issuer_name(x), issuer, icap);
    name_rfc2253(X509_get_subject_name(x), subject, scap);
    X509_free(x);
    return 0;
}

size_t dca_name_values(const uint8_t *der, size_t len, const char *what, char *out, size_t cap)
{
    X509 *x = load(der, len);
    const X509_NAME *n;
    size_t count = 0, pos = 0;
    int nid, i = -1;

    if (cap)
        out[0] = '\0';
    if (!x || cap < 2)
        goto out;
    n = X509_get_subject_name(x);
    if (strcmp(what, "subject") == 0) {
        char *s = X509_NAME_oneline(n, NULL, 0);
        if (s && strlen(s) + 1 < cap) {
            memcpy(out, s, strlen(s) + 1);
            count = 1;
        }
        OPENSSL_free(s);
        goto out;
    }
    nid = strcmp(what, "cn") == 0 ? NID_commonName : NID_x500UniqueIdentifier;
    while ((i = X509_NAME_get_index_by_NID(n, nid, i)) >= 0) {
        unsigned char *u = NULL;
        int ul = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)));
        if (ul > 0 && (size_t)ul + 1 < cap - pos && !memchr(u, '\0', (size_t)ul)) {
            memcpy(out + pos, u, (size_t)ul);
            pos += (size_t)ul;
            out[pos++] = '\0';
            count++;
        }
        OPENSSL_free(u);
    }
out:
    X509_free(x);
    return count;
}

bool dca_has_ku(const uint8_t *der, size_t len, const char *ku)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } bits[] = {{"digitalSignature", KU_DIGITAL_SIGNATURE},
                {"nonRepudiation", KU_NON_REPUDIATION},
                {"keyEncipherment", KU_KEY_ENCIPHERMENT},
                {"dataEncipherment", KU_DATA_ENCIPHERMENT},
                {"keyAgreement", KU_KEY_AGREEMENT},
                {"keyCertSign", KU_KEY_CERT_SIGN},
                {"cRLSign", KU_CRL_SIGN},
                {"encipherOnly", KU_ENCIPHER_ONLY},
                {"decipherOnly", KU_DECIPHER_ONLY}};
    X509 *x = load(der, len);
    bool ok = false;
    if (!x)
        return false;
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if (strcmp(bits[i].name, ku) == 0)
            ok = (X509_get_key_usage(x) & bits[i].bit) != 0;
    X509_free(x);
    return ok;
}

bool dca_has_eku(const uint8_t *der, size_t len, const char *eku)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } bits[] = {{"clientAuth", XKU_SSL_CLIENT},  {"serverAuth", XKU_SSL_SERVER},
                {"emailProtection", XKU_SMIME},  {"codeSigning", XKU_CODE_SIGN},
                {"timeStamping", XKU_TIMESTAMP}, {"OCSPSigning", XKU_OCSP_SIGN}};
    X509 *x = load(der, len);
    bool ok = false;
    if (!x)
        return false;
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if (strcmp(bits[i].name, eku) == 0)
            ok = (X509_get_extended_key_usage(x) & bits[i].bit) != 0;
    X509_free(x);
    return ok;
}

/* ---- --import-ca ---- */

struct body {
    unsigned char *p;
    size_t len;
    bool too_big;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    size_t add = size * n;
    unsigned char *q;
    if (b->len + add > CHAIN_MAX_BYTES) {
        b->too_big = true;
        return 0;
    }
    q = realloc(b->p, b->len + add + 1);
    if (!q)
        return 0;
    b->p = q;
    memcpy(b->p + b->len, data, add);
    b->len += add;
    return add;
}

static int fetch(const char *url, const char *ca_file, long timeout_ms, struct body *b, char *err,
                 size_t errlen)
{
    char ebuf[CURL_ERROR_SIZE] = "";
    long status = 0;
    CURLcode cc = CURLE_FAILED_INIT;
    CURL *h = curl_easy_init();

    if (!h) {
        snprintf(err, errlen, "libcurl could not start");
        return -1;
    }
    if (tps_tls_setup(h, ca_file, err, errlen) < 0) {
        curl_easy_cleanup(h);
        return -1;
    }
    if (curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_WRITEDATA, b) == CURLE_OK)
        cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    if (b->too_big) {
        snprintf(err, errlen, "the CA chain at %s is larger than %d KiB", url,
                 CHAIN_MAX_BYTES / 1024);
        return -1;
    }
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "the CA chain could not be fetched from %s (%s)", url,
                 ebuf[0] ? ebuf : curl_easy_strerror(cc));
        return -1;
    }
    if (status != 200) {
        snprintf(err, errlen, "%s answered HTTP status %ld, not the CA chain", url, status);
        return -1;
    }
    return 0;
}

static void push_pkcs7(PKCS7 *p7, STACK_OF(X509) * out)
{
    STACK_OF(X509) *certs = NULL;
    if (p7 && PKCS7_type_is_signed(p7) && p7->d.sign)
        certs = p7->d.sign->cert;
    for (int i = 0; certs && i < sk_X509_num(certs); i++) {
        X509 *c = sk_X509_value(certs, i);
        if (X509_up_ref(c) == 1 && !sk_X509_push(out, c))
            X509_free(c);
    }
}

/* PEM certificates, a PEM or DER PKCS#7 (Dogtag's getCAChain), or one DER certificate. */
static STACK_OF(X509) * parse_chain(const unsigned char *p, size_t len)
{
    STACK_OF(X509) *out = sk_X509_new_null();
    BIO *b;
    X509 *c;

    if (!out)
        return NULL;
    b = BIO_new_mem_buf(p, (int)len);
    while (b && (c = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(out, c))
            X509_free(c);
    BIO_free(b);
    if (sk_X509_num(out) == 0) {
        PKCS7 *p7;
        b = BIO_new_mem_buf(p, (int)len);
        p7 = b ? PEM_read_bio_PKCS7(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        if (!p7) {
            const unsigned char *q = p;
            p7 = d2i_PKCS7(NULL, &q, (long)len);
        }
        push_pkcs7(p7, out);
        PKCS7_free(p7);
    }
    if (sk_X509_num(out) == 0) {
        const unsigned char *q = p;
        c = d2i_X509(NULL, &q, (long)len);
        if (c && !sk_X509_push(out, c))
            X509_free(c);
    }
    ERR_clear_error();
    return out;
}

/* The certificate of `chain` that issued `x` (names, key identifiers and signature), or NULL. */
static X509 *issuer_in(STACK_OF(X509) * chain, X509 *x)
{
    for (int i = 0; i < sk_X509_num(chain); i++) {
        X509 *c = sk_X509_value(chain, i);
        EVP_PKEY *k = X509_get0_pubkey(c);
        if (X509_check_issued(c, x) == X509_V_OK && k && X509_verify(x, k) == 1)
            return c;
    }
    return NULL;
}

/* Write `c` as PEM to dir/name through a temporary file: fsync, rename. 0 or -1. */
static int write_pem_atomic(const char *dir, const char *name, X509 *c, char *err, size_t errlen)
{
    char tmp[4096], dst[4096];
    FILE *f;
    int fd, ok;

    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, name);
    fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s cannot be written (%s)", dir, strerror(errno));
        return -1;
    }
    f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        snprintf(err, errlen, "%s cannot be written", dir);
        return -1;
    }
    ok = PEM_write_X509(f, c) == 1 && fflush(f) == 0 && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, dst) != 0) {
        unlink(tmp);
        snprintf(err, errlen, "%s cannot be written (%s)", dst, strerror(errno));
        return -1;
    }
    return 0;
}

/* Put `c` into dir with a <hash>.N link; `note` says what was done. 0 or -1. */
static int install(const char *dir, X509 *c, char *note, size_t ncap, char *err, size_t errlen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char hash[16], name[64], link[4096], tmp[4096], subject[512];
    int n;

    snprintf(hash, sizeof hash, "%08lx", X509_subject_name_hash(c));
    name_rfc2253(X509_get_subject_name(c), subject, sizeof subject);
    if (X509_digest(c, EVP_sha256(), md, &mdlen) != 1 || mdlen < 8) {
        snprintf(err, errlen, "OpenSSL could not fingerprint %s", subject);
        return -1;
    }
    for (n = 0; n < 100; n++) {
        FILE *f;
        X509 *have;
        snprintf(link, sizeof link, "%s/%s.%d", dir, hash, n);
        f = fopen(link, "r");
        if (!f)
            break;
        have = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        if (have && X509_cmp(have, c) == 0) {
            X509_free(have);
            snprintf(note, ncap, "%s is already there as %s.%d", subject, hash, n);
            return 0;
        }
        X509_free(have);
    }
    ERR_clear_error();
    snprintf(name, sizeof name, "esc-ca-%02x%02x%02x%02x%02x%02x%02x%02x.pem", md[0], md[1], md[2],
             md[3], md[4], md[5], md[6], md[7]);
    if (write_pem_atomic(dir, name, c, err, errlen) != 0)
        return -1;
    /* the link appears at once and whole: made under another name, then renamed */
    snprintf(tmp, sizeof tmp, "%s/.%s.%d.%ld", dir, hash, n, (long)getpid());
    unlink(tmp);
    if (symlink(name, tmp) != 0 || rename(tmp, link) != 0) {
        unlink(tmp);
        snprintf(err, errlen, "the link %s cannot be made (%s)", link, strerror(errno));
        return -1;
    }
    snprintf(note, ncap, "%s written to %s/%s, linked as %s.%d", subject, dir, name, hash, n);
    return 0;
}

int dca_import(const char *url, const char *ca_file, long timeout_ms, const uint8_t *card_der,
               size_t card_len, const char *ca_dir, FILE *pem_out, char *report, size_t rcap,
               char *err, size_t errlen)
{
    struct body b = {0};
    STACK_OF(X509) *chain = NULL, *keep = sk_X509_new_null();
    X509 *card = card_der ? load(card_der, card_len) : NULL;
    int rc = -1;
    size_t rpos = 0;

    report[0] = '\0';
    if (!keep || (card_der && !card)) {
        snprintf(err, errlen, "the card's certificate cannot be read");
        goto out;
    }
    if (fetch(url, ca_file, timeout_ms, &b, err, errlen) != 0)
        goto out;
    chain = parse_chain(b.p, b.len);
    if (!chain || sk_X509_num(chain) == 0) {
        snprintf(err, errlen, "%s answered no certificate (PEM, PKCS#7 or DER)", url);
        goto out;
    }
    if (card) { /* only the certificates on the card certificate's path */
        X509 *cur = card;
        for (int depth = 0; depth < CHAIN_DEPTH; depth++) {
            X509 *c = issuer_in(chain, cur);
            if (!c || c == cur)
                break;
            sk_X509_push(keep, c);
            if (X509_check_issued(c, c) == X509_V_OK)
                break; /* self-signed: the root */
            cur = c;
        }
        if (sk_X509_num(keep) == 0) {
            char issuer[512];
            name_rfc2253(X509_get_issuer_name(card), issuer, sizeof issuer);
            snprintf(err, errlen,
                     "the CA chain at %s holds no certificate of %s, the card certificate's "
                     "issuer: nothing was imported",
                     url, issuer);
            goto out;
        }
    } else {
        for (int i = 0; i < sk_X509_num(chain); i++)
            if (X509_check_ca(sk_X509_value(chain, i)) >= 1)
                sk_X509_push(keep, sk_X509_value(chain, i));
        if (sk_X509_num(keep) == 0) {
            snprintf(err, errlen, "%s answered no CA certificate: nothing was imported", url);
            goto out;
        }
    }
    if (!pem_out && mkdir(ca_dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s cannot be created (%s)", ca_dir, strerror(errno));
        goto out;
    }
    for (int i = 0; i < sk_X509_num(keep); i++) {
        char note[1024];
        X509 *c = sk_X509_value(keep, i);
        if (pem_out) {
            name_rfc2253(X509_get_subject_name(c), note, sizeof note);
            PEM_write_X509(pem_out, c);
        } else if (install(ca_dir, c, note, sizeof note, err, errlen) != 0) {
            goto out;
        }
        rpos += (size_t)snprintf(report + rpos, rpos < rcap ? rcap - rpos : 0, "%s%s",
                                 rpos ? "; " : "", note);
        if (rpos >= rcap)
            rpos = rcap - 1;
    }
    rc = sk_X509_num(keep);
out:
    ERR_clear_error();
    sk_X509_free(keep); /* the certificates belong to chain */
    sk_X509_pop_free(chain, X509_free);
    X509_free(card);
    free(b.p);
    return rc;
}
