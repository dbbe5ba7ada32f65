/* escctl certs: decode the card's certificates with NSS and print them (escctl_certs.h).
 * Everything printed comes from the card, so it is hostile: text output shows control bytes
 * as \xNN (no terminal escapes reach the screen), JSON output escapes them and replaces
 * invalid UTF-8 with U+FFFD, so the result always parses. */
#include "escctl_certs.h"
#include "escctl_text.h"

#include <cert.h>
#include <certt.h>
#include <hasht.h>
#include <keyhi.h>
#include <nss.h>
#include <pk11pub.h>
#include <prerror.h>
#include <prprf.h>
#include <secerr.h>
#include <secitem.h>
#include <secoid.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

esc_err certs_nss_open(void **ctx)
{
    /* no certificate, key or module database: nothing on disk is read or written */
    NSSInitContext *c =
        NSS_InitContext("", "", "", "", NULL,
                        NSS_INIT_READONLY | NSS_INIT_NOCERTDB | NSS_INIT_NOMODDB |
                            NSS_INIT_FORCEOPEN | NSS_INIT_NOROOTINIT | NSS_INIT_OPTIMIZESPACE);
    *ctx = c;
    return c ? ESC_OK : ESC_ERR_INTERNAL;
}

void certs_nss_close(void *ctx)
{
    if (ctx)
        NSS_ShutdownContext((NSSInitContext *)ctx);
}

/* Append `s` to out (cap), separated by ", ". */
static void append(char *out, size_t cap, const char *s)
{
    size_t len = strnlen(out, cap);
    if (len + 1 >= cap)
        return;
    snprintf(out + len, cap - len, "%s%s", len ? ", " : "", s);
}

static void hex(const unsigned char *d, size_t n, bool colons, char *out, size_t cap)
{
    size_t pos = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && pos + 4 <= cap; i++)
        pos += (size_t)snprintf(out + pos, cap - pos, "%s%02X", colons && i ? ":" : "", d[i]);
}

static void key_usage(const CERTCertificate *cert, struct certs_view *v)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {0x80, "Digital Signature"}, {0x40, "Non Repudiation"}, {0x20, "Key Encipherment"},
        {0x10, "Data Encipherment"}, {0x08, "Key Agreement"},   {0x04, "Certificate Sign"},
        {0x02, "CRL Sign"},          {0x01, "Encipher Only"},
    };
    if (!cert->keyUsagePresent)
        return;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (cert->rawKeyUsage & names[i].bit)
            append(v->key_usage, sizeof v->key_usage, names[i].name);
    if (!v->key_usage[0])
        append(v->key_usage, sizeof v->key_usage, "none");
}

static void eku_name(const SECItem *oid, char *out, size_t cap)
{
    char *dotted;
    switch (SECOID_FindOIDTag(oid)) {
    case SEC_OID_EXT_KEY_USAGE_SERVER_AUTH:
        snprintf(out, cap, "serverAuth");
        return;
    case SEC_OID_EXT_KEY_USAGE_CLIENT_AUTH:
        snprintf(out, cap, "clientAuth");
        return;
    case SEC_OID_EXT_KEY_USAGE_CODE_SIGN:
        snprintf(out, cap, "codeSigning");
        return;
    case SEC_OID_EXT_KEY_USAGE_EMAIL_PROTECT:
        snprintf(out, cap, "emailProtection");
        return;
    case SEC_OID_EXT_KEY_USAGE_TIME_STAMP:
        snprintf(out, cap, "timeStamping");
        return;
    case SEC_OID_OCSP_RESPONDER:
        snprintf(out, cap, "OCSPSigning");
        return;
    default:
        break;
    }
    dotted = CERT_GetOidString(oid); /* "OID.1.3.6.1..." */
    if (!dotted) {
        snprintf(out, cap, "unknown");
        return;
    }
    if (strcmp(dotted, "OID.1.3.6.1.4.1.311.20.2.2") == 0)
        snprintf(out, cap, "msSmartcardLogin");
    else
        snprintf(out, cap, "%s", strncmp(dotted, "OID.", 4) == 0 ? dotted + 4 : dotted);
    PR_smprintf_free(dotted);
}

static void ext_key_usage(CERTCertificate *cert, struct certs_view *v)
{
    SECItem ext = {siBuffer, NULL, 0};
    CERTOidSequence *seq;
    char name[96];

    if (CERT_FindCertExtension(cert, SEC_OID_X509_EXT_KEY_USAGE, &ext) != SECSuccess)
        return;
    seq = CERT_DecodeOidSequence(&ext);
    if (!seq) {
        append(v->ext_key_usage, sizeof v->ext_key_usage, "(malformed)");
    } else {
        for (SECItem **p = seq->oids; p && *p; p++) {
            eku_name(*p, name, sizeof name);
            append(v->ext_key_usage, sizeof v->ext_key_usage, name);
        }
        CERT_DestroyOidSequence(seq);
    }
    SECITEM_FreeItem(&ext, PR_FALSE);
}

static void public_key(CERTCertificate *cert, struct certs_view *v)
{
    SECKEYPublicKey *pk = CERT_ExtractPublicKey(cert);
    const char *type = "unknown";

    if (!pk) {
        snprintf(v->key_type, sizeof v->key_type, "unknown");
        return;
    }
    switch (SECKEY_GetPublicKeyType(pk)) {
    case rsaKey:
    case rsaPssKey:
        type = "RSA";
        break;
    case ecKey:
        type = "EC";
        break;
    case dsaKey:
        type = "DSA";
        break;
    default:
        break;
    }
    snprintf(v->key_type, sizeof v->key_type, "%s", type);
    v->key_bits = SECKEY_PublicKeyStrengthInBits(pk);
    SECKEY_DestroyPublicKey(pk);
}

static void name_text(CERTName *n, char *out, size_t cap)
{
    char *s = CERT_NameToAscii(n);
    snprintf(out, cap, "%s", s ? s : "");
    PORT_Free(s);
}

static void serial_text(const SECItem *sn, struct certs_view *v)
{
    const unsigned char *d = sn->data;
    size_t n = sn->len;
    /* a positive INTEGER's leading zero byte is not part of the number (as openssl prints) */
    while (n > 1 && d[0] == 0) {
        d++;
        n--;
    }
    hex(d, n, false, v->serial, sizeof v->serial);
}

static void validity(CERTCertificate *cert, time_t now, struct certs_view *v)
{
    PRTime nb, na;
    int64_t left;

    if (CERT_GetCertTimes(cert, &nb, &na) != SECSuccess)
        return;
    v->not_before = (int64_t)(nb / PR_USEC_PER_SEC);
    v->not_after = (int64_t)(na / PR_USEC_PER_SEC);
    v->expired = v->not_after < (int64_t)now;
    v->not_yet_valid = v->not_before > (int64_t)now;
    left = v->not_after - (int64_t)now;
    /* whole days, rounded toward minus infinity: 1 s past notAfter is "-1" */
    v->days_left = (long)(left >= 0 ? left / 86400 : -((-left + 86399) / 86400));
}

size_t certs_der_len(const uint8_t *der, size_t len)
{
    size_t hdr = 2, body = 0;

    if (len < 2 || der[0] != 0x30)
        return len;
    if (der[1] < 0x80) {
        body = der[1];
    } else {
        size_t nb = der[1] & 0x7F;
        if (nb == 0 || nb > 4 || len < 2 + nb)
            return len;
        for (size_t i = 0; i < nb; i++)
            body = (body << 8) | der[2 + i];
        hdr += nb;
    }
    return body <= len - hdr ? hdr + body : len;
}

void certs_decode(const uint8_t *der, size_t len, time_t now, struct certs_view *out)
{
    unsigned char digest[SHA256_LENGTH];
    CERTCertificate *cert;
    SECItem item;

    memset(out, 0, sizeof *out);
    if (len == 0 || len > INT_MAX) {
        snprintf(out->error, sizeof out->error, "empty or oversized object (%zu bytes)", len);
        return;
    }
    if (PK11_HashBuf(SEC_OID_SHA256, digest, der, (PRInt32)len) == SECSuccess)
        hex(digest, sizeof digest, true, out->sha256, sizeof out->sha256);
    item.type = siDERCertBuffer;
    item.data = (unsigned char *)der;
    item.len = (unsigned)len;
    /* a temporary certificate, not a permanent one: nothing is stored (and there is no db) */
    cert = CERT_NewTempCertificate(CERT_GetDefaultCertDB(), &item, NULL, PR_FALSE, PR_TRUE);
    if (!cert) {
        const char *e = PR_ErrorToName(PR_GetError());
        snprintf(out->error, sizeof out->error, "NSS cannot decode it (%s)",
                 e ? e : "unknown error");
        return;
    }
    out->ok = true;
    name_text(&cert->subject, out->subject, sizeof out->subject);
    name_text(&cert->issuer, out->issuer, sizeof out->issuer);
    serial_text(&cert->serialNumber, out);
    validity(cert, now, out);
    public_key(cert, out);
    key_usage(cert, out);
    ext_key_usage(cert, out);
    CERT_DestroyCertificate(cert);
}

/* ---- printing */

static void utc(int64_t t, bool iso, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    out[0] = '\0';
    if (gmtime_r(&tt, &tm))
        strftime(out, cap, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static const char *or_dash(const char *s)
{
    return *s ? s : "-";
}

void certs_print_text(FILE *f, const struct certs_obj *o, const struct certs_view *v)
{
    char nb[40], na[40];

    fputs("Certificate ", f);
    escctl_put_text(f, o->id);
    if (o->label[0]) {
        fputs(" \"", f);
        escctl_put_text(f, o->label);
        fputc('"', f);
    }
    if (!v->ok) {
        fprintf(f, ": %s; %zu bytes, SHA-256 %s\n", v->error, o->der_len, or_dash(v->sha256));
        return;
    }
    utc(v->not_before, false, nb, sizeof nb);
    utc(v->not_after, false, na, sizeof na);
    fputs("\n  Subject:        ", f);
    escctl_put_text(f, or_dash(v->subject));
    fputs("\n  Issuer:         ", f);
    escctl_put_text(f, or_dash(v->issuer));
    fprintf(f, "\n  Serial:         %s\n  Not before:     %s\n  Not after:      %s\n",
            or_dash(v->serial), nb, na);
    if (v->expired)
        fprintf(f, "  Validity:       EXPIRED %ld days ago\n", -v->days_left);
    else if (v->not_yet_valid)
        fprintf(f, "  Validity:       not yet valid (%ld days left after)\n", v->days_left);
    else
        fprintf(f, "  Validity:       valid, %ld days left\n", v->days_left);
    if (v->key_bits)
        fprintf(f, "  Key:            %s %u bits\n", v->key_type, v->key_bits);
    else
        fprintf(f, "  Key:            %s\n", v->key_type);
    fprintf(f, "  Key usage:      %s\n  Ext. key usage: %s\n  SHA-256:        %s\n",
            or_dash(v->key_usage), or_dash(v->ext_key_usage), or_dash(v->sha256));
}

static void json_kv(FILE *f, const char *k, const char *v)
{
    fprintf(f, ", \"%s\": ", k);
    if (v && *v)
        escctl_json_str(f, v);
    else
        fputs("null", f);
}

/* "A, B" -> ["A", "B"]; no extension -> null */
static void json_list(FILE *f, const char *k, const char *v)
{
    char item[512];
    fprintf(f, ", \"%s\": ", k);
    if (!*v) {
        fputs("null", f);
        return;
    }
    fputc('[', f);
    for (const char *p = v; *p;) {
        size_t n = strcspn(p, ",");
        snprintf(item, sizeof item, "%.*s", (int)(n < sizeof item ? n : sizeof item - 1), p);
        escctl_json_str(f, item);
        p += n;
        if (*p) {
            fputs(", ", f);
            p += strspn(p, ", ");
        }
    }
    fputc(']', f);
}

void certs_print_json(FILE *f, const struct certs_card *card, const struct certs_obj *o,
                      const struct certs_view *v)
{
    char nb[40], na[40];

    fputs("{\"id\": ", f);
    escctl_json_str(f, o->id);
    if (card) {
        json_kv(f, "reader", card->reader);
        json_kv(f, "cuid", card->have_cuid ? card->cuid_hex : NULL);
    }
    json_kv(f, "label", o->label);
    fprintf(f, ", \"decoded\": %s", v->ok ? "true" : "false");
    json_kv(f, "error", v->ok ? NULL : v->error);
    fprintf(f, ", \"der_len\": %zu", o->der_len);
    json_kv(f, "sha256", v->sha256);
    if (v->ok) {
        utc(v->not_before, true, nb, sizeof nb);
        utc(v->not_after, true, na, sizeof na);
        json_kv(f, "subject", v->subject);
        json_kv(f, "issuer", v->issuer);
        json_kv(f, "serial", v->serial);
        json_kv(f, "not_before", nb);
        json_kv(f, "not_after", na);
        fprintf(f, ", \"expired\": %s, \"not_yet_valid\": %s, \"days_left\": %ld",
                v->expired ? "true" : "false", v->not_yet_valid ? "true" : "false", v->days_left);
        json_kv(f, "key_type", v->key_type);
        if (v->key_bits)
            fprintf(f, ", \"key_bits\": %u", v->key_bits);
        else
            fputs(", \"key_bits\": null", f);
        json_list(f, "key_usage", v->key_usage);
        json_list(f, "ext_key_usage", v->ext_key_usage);
    }
    fputc('}', f);
}

void certs_print_pem(FILE *f, const uint8_t *der, size_t len)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t col = 0;

    fputs("-----BEGIN CERTIFICATE-----\n", f);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t w = (uint32_t)der[i] << 16;
        size_t n = len - i < 3 ? len - i : 3;
        if (n > 1)
            w |= (uint32_t)der[i + 1] << 8;
        if (n > 2)
            w |= der[i + 2];
        fputc(b64[(w >> 18) & 63], f);
        fputc(b64[(w >> 12) & 63], f);
        fputc(n > 1 ? b64[(w >> 6) & 63] : '=', f);
        fputc(n > 2 ? b64[w & 63] : '=', f);
        col += 4;
        if (col == 64) {
            fputc('\n', f);
            col = 0;
        }
    }
    if (col)
        fputc('\n', f);
    fputs("-----END CERTIFICATE-----\n", f);
}
