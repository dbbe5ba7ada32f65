/* der: bounded X.509 reader (validity, subject, issuer). Only what pam_esc needs; every
 * TLV is checked against its container, only definite lengths up to 4 bytes, single-byte
 * tags, and a fixed path through the certificate (no recursion). */
#include "der.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct tlv {
    uint8_t tag;
    const uint8_t *v; /* content */
    size_t len;
};

/* Read one TLV from [*p, end); advance *p past it. */
static bool tlv_next(const uint8_t **p, const uint8_t *end, struct tlv *t)
{
    const uint8_t *q = *p;
    size_t len;

    if (q >= end || end - q < 2)
        return false;
    t->tag = *q++;
    if ((t->tag & 0x1F) == 0x1F)
        return false; /* high tag numbers never occur in what we read */
    len = *q++;
    if (len & 0x80) {
        size_t nb = len & 0x7F;
        if (nb == 0 || nb > 4 || (size_t)(end - q) < nb)
            return false; /* indefinite or absurd */
        len = 0;
        for (size_t i = 0; i < nb; i++)
            len = (len << 8) | *q++;
    }
    if (len > (size_t)(end - q))
        return false;
    t->v = q;
    t->len = len;
    *p = q + len;
    return true;
}

static bool expect(const uint8_t **p, const uint8_t *end, uint8_t tag, struct tlv *t)
{
    return tlv_next(p, end, t) && t->tag == tag;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* H. Hinnant's algorithm: days since 1970-01-01 of a proleptic Gregorian date */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const uint8_t *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

esc_err der_parse_time(uint8_t tag, const uint8_t *s, size_t n, int64_t *out)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned year, mon, day, hh, mm, ss = 0;
    size_t yl = tag == 0x17 ? 2 : tag == 0x18 ? 4 : 0, i;

    if (!yl || !s || !out || n < yl + 8 + 1 || n > 32 || s[n - 1] != 'Z')
        return ESC_ERR_BAD_CERT;
    if (!digits(s, yl, &year) || !digits(s + yl, 2, &mon) || !digits(s + yl + 2, 2, &day) ||
        !digits(s + yl + 4, 2, &hh) || !digits(s + yl + 6, 2, &mm))
        return ESC_ERR_BAD_CERT;
    i = yl + 8;
    if (i + 1 < n) { /* seconds present */
        if (i + 2 >= n || !digits(s + i, 2, &ss))
            return ESC_ERR_BAD_CERT;
        i += 2;
        if (tag == 0x18 && s[i] == '.') { /* fraction: digits, ignored */
            size_t f = ++i;
            while (i < n - 1 && s[i] >= '0' && s[i] <= '9')
                i++;
            if (i == f)
                return ESC_ERR_BAD_CERT;
        }
    }
    if (i != n - 1)
        return ESC_ERR_BAD_CERT;
    if (tag == 0x17)
        year += year < 50 ? 2000 : 1900; /* RFC 5280 4.1.2.5.1 */
    if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || hh > 23 || mm > 59 || ss > 60)
        return ESC_ERR_BAD_CERT;
    if (mon == 2 && day == 29 && !((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return ESC_ERR_BAD_CERT;
    *out = days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss;
    return ESC_OK;
}

static const struct {
    const char *name;
    uint8_t len;
    uint8_t oid[10];
} attr_names[] = {
    {"CN", 3, {0x55, 0x04, 0x03}},
    {"C", 3, {0x55, 0x04, 0x06}},
    {"L", 3, {0x55, 0x04, 0x07}},
    {"ST", 3, {0x55, 0x04, 0x08}},
    {"O", 3, {0x55, 0x04, 0x0A}},
    {"OU", 3, {0x55, 0x04, 0x0B}},
    {"serialNumber", 3, {0x55, 0x04, 0x05}},
    {"UID", 10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xF2, 0x2C, 0x64, 0x01, 0x01}},
    {"DC", 10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xF2, 0x2C, 0x64, 0x01, 0x19}},
    {"E", 9, {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x01}},
};

/* Append to a bounded string; silently truncates. */
static void cat(char *dst, size_t cap, size_t *pos, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *pos + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[(*pos)++] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
    }
    dst[*pos] = '\0';
}

/* Name ::= SEQUENCE OF RDN; RDN ::= SET OF { type OID, value ANY }. Printed leaf first
 * ("CN=.., O=.."), like RFC 4514. */
static bool format_name(const struct tlv *name, char *out, size_t cap)
{
    struct tlv parts[16][2];
    size_t np = 0, pos = 0;
    const uint8_t *p = name->v, *end = name->v + name->len;

    out[0] = '\0';
    while (p < end) {
        struct tlv set, atv;
        const uint8_t *sp, *ap;
        if (!expect(&p, end, 0x31, &set))
            return false;
        sp = set.v;
        while (sp < set.v + set.len) {
            if (!expect(&sp, set.v + set.len, 0x30, &atv))
                return false;
            ap = atv.v;
            if (np == 16)
                continue; /* keep the first 16 components */
            if (!expect(&ap, atv.v + atv.len, 0x06, &parts[np][0]) ||
                !tlv_next(&ap, atv.v + atv.len, &parts[np][1]))
                return false;
            np++;
        }
    }
    for (size_t k = np; k-- > 0;) {
        const struct tlv *oid = &parts[k][0], *val = &parts[k][1];
        char unk[32];
        const char *nm = NULL;
        for (size_t j = 0; j < sizeof attr_names / sizeof attr_names[0]; j++)
            if (oid->len == attr_names[j].len && memcmp(oid->v, attr_names[j].oid, oid->len) == 0)
                nm = attr_names[j].name;
        if (!nm) {
            snprintf(unk, sizeof unk, "OID(%zu bytes)", oid->len);
            nm = unk;
        }
        if (pos)
            cat(out, cap, &pos, ", ", 2);
        cat(out, cap, &pos, nm, strlen(nm));
        cat(out, cap, &pos, "=", 1);
        cat(out, cap, &pos, (const char *)val->v, val->len);
    }
    return true;
}

esc_err der_cert_parse(const uint8_t *der, size_t len, struct der_cert_info *out)
{
    const uint8_t *p = der, *end, *tp, *tend, *vp;
    struct tlv cert, tbs, t, issuer, validity, nb, na, subject;

    if (!der || !out)
        return ESC_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (!expect(&p, der + len, 0x30, &cert))
        return ESC_ERR_BAD_CERT;
    end = cert.v + cert.len;
    p = cert.v;
    if (!expect(&p, end, 0x30, &tbs))
        return ESC_ERR_BAD_CERT;
    tp = tbs.v;
    tend = tbs.v + tbs.len;
    if (!tlv_next(&tp, tend, &t))
        return ESC_ERR_BAD_CERT;
    if (t.tag == 0xA0 && !tlv_next(&tp, tend, &t)) /* [0] version, then serial */
        return ESC_ERR_BAD_CERT;
    if (t.tag != 0x02)
        return ESC_ERR_BAD_CERT;
    if (!expect(&tp, tend, 0x30, &t) ||        /* signature AlgorithmIdentifier */
        !expect(&tp, tend, 0x30, &issuer) ||   /* issuer Name */
        !expect(&tp, tend, 0x30, &validity) || /* validity */
        !expect(&tp, tend, 0x30, &subject))    /* subject Name */
        return ESC_ERR_BAD_CERT;
    vp = validity.v;
    if (!tlv_next(&vp, validity.v + validity.len, &nb) ||
        !tlv_next(&vp, validity.v + validity.len, &na) || vp != validity.v + validity.len)
        return ESC_ERR_BAD_CERT;
    if (der_parse_time(nb.tag, nb.v, nb.len, &out->not_before) != ESC_OK ||
        der_parse_time(na.tag, na.v, na.len, &out->not_after) != ESC_OK)
        return ESC_ERR_BAD_CERT;
    if (!format_name(&subject, out->subject, sizeof out->subject) ||
        !format_name(&issuer, out->issuer, sizeof out->issuer))
        return ESC_ERR_BAD_CERT;
    return ESC_OK;
}
