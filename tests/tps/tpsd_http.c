/* tpsd_http: request head parser, chunked decoder and chunk writer. */
#include "tpsd_http.h"

#include "tps_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

long tpsd_http_head_len(const char *buf, size_t len)
{
    size_t lim = len < TPSD_HTTP_HEAD_MAX ? len : TPSD_HTTP_HEAD_MAX;
    for (size_t i = 0; i + 3 < lim; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return (long)(i + 4);
    /* Bare-LF heads are tolerated too. */
    for (size_t i = 0; i + 1 < lim; i++)
        if (buf[i] == '\n' && buf[i + 1] == '\n')
            return (long)(i + 2);
    return len >= TPSD_HTTP_HEAD_MAX ? -1 : 0;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
        (*n)--;
}

static bool eq_token(const char *s, size_t n, const char *tok)
{
    return strlen(tok) == n && strncasecmp(s, tok, n) == 0;
}

static int parse_request_line(struct tpsd_http_req *r, const char *s, size_t n)
{
    const char *sp1 = memchr(s, ' ', n), *sp2, *target, *q;
    size_t mlen, tlen, plen;
    if (!sp1)
        return -1;
    mlen = (size_t)(sp1 - s);
    sp2 = memchr(sp1 + 1, ' ', n - mlen - 1);
    if (!sp2 || mlen == 0 || mlen >= sizeof(r->method))
        return -1;
    memcpy(r->method, s, mlen);
    r->method[mlen] = '\0';
    for (size_t i = 0; i < mlen; i++)
        if (r->method[i] < 'A' || r->method[i] > 'Z')
            return -1;
    target = sp1 + 1;
    tlen = (size_t)(sp2 - target);
    if (tlen == 0 || target[0] != '/')
        return -1;
    for (size_t i = 0; i < tlen; i++)
        if ((unsigned char)target[i] <= ' ' || (unsigned char)target[i] >= 0x7f)
            return -1;
    q = memchr(target, '?', tlen);
    plen = q ? (size_t)(q - target) : tlen;
    if (plen >= sizeof(r->path))
        return -1;
    memcpy(r->path, target, plen);
    r->path[plen] = '\0';
    if (q) {
        size_t qlen = tlen - plen - 1;
        if (qlen >= sizeof(r->query))
            return -1;
        memcpy(r->query, q + 1, qlen);
        r->query[qlen] = '\0';
    }
    n -= (size_t)(sp2 + 1 - s);
    s = sp2 + 1;
    if (n != 8 || strncmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9')
        return -1;
    r->minor = s[7] - '0';
    return 0;
}

static int parse_header(struct tpsd_http_req *r, const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n), *v;
    size_t klen, vlen;
    if (!colon || colon == s)
        return -1;
    klen = (size_t)(colon - s);
    for (size_t i = 0; i < klen; i++)
        if (s[i] == ' ' || s[i] == '\t' || (unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return -1;
    v = colon + 1;
    vlen = n - klen - 1;
    trim(&v, &vlen);
    if (eq_token(s, klen, "Transfer-Encoding")) {
        r->has_te = true;
        r->chunked = eq_token(v, vlen, "chunked");
    } else if (eq_token(s, klen, "Expect")) {
        r->expect_100 = eq_token(v, vlen, "100-continue");
    } else if (eq_token(s, klen, "Connection")) {
        r->conn_close = eq_token(v, vlen, "close");
    } else if (eq_token(s, klen, "Content-Length")) {
        char tmp[24];
        char *end;
        if (vlen == 0 || vlen >= sizeof(tmp))
            return -1;
        memcpy(tmp, v, vlen);
        tmp[vlen] = '\0';
        for (size_t i = 0; i < vlen; i++)
            if (tmp[i] < '0' || tmp[i] > '9')
                return -1;
        r->content_length = strtoul(tmp, &end, 10);
        r->has_length = true;
    }
    return 0;
}

int tpsd_http_parse(struct tpsd_http_req *r, const char *buf, size_t len)
{
    size_t pos = 0;
    bool first = true;
    memset(r, 0, sizeof(*r));
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n;
        if (!nl)
            return -1;
        n = (size_t)(nl - (buf + pos));
        if (n > 0 && buf[pos + n - 1] == '\r')
            n--;
        if (n == 0)
            return first ? -1 : 0; /* the blank line ends the head */
        if (memchr(buf + pos, '\0', n))
            return -1;
        if (first) {
            if (parse_request_line(r, buf + pos, n) < 0)
                return -1;
            first = false;
        } else if (buf[pos] == ' ' || buf[pos] == '\t') {
            return -1; /* obsolete line folding */
        } else if (parse_header(r, buf + pos, n) < 0) {
            return -1;
        }
        pos = (size_t)(nl - buf) + 1;
    }
    return -1;
}

int tpsd_http_query_get(const char *query, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    const char *p = query;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t vlen = n - klen - 1;
            if (vlen >= cap)
                return -1;
            memcpy(out, p + klen + 1, vlen);
            out[vlen] = '\0';
            return 0;
        }
        p = amp ? amp + 1 : NULL;
    }
    return -1;
}

void tpsd_chunk_init(struct tpsd_chunk_dec *d)
{
    memset(d, 0, sizeof(*d));
    d->st = CH_SIZE;
}

bool tpsd_chunk_done(const struct tpsd_chunk_dec *d)
{
    return d->st == CH_DONE;
}

int tpsd_chunk_push(struct tpsd_chunk_dec *d, const char *buf, size_t len, tpsd_chunk_cb cb,
                    void *ctx)
{
    size_t i = 0;
    if (d->broken)
        return -1;
    while (i < len && d->st != CH_DONE) {
        char c = buf[i];
        switch (d->st) {
        case CH_SIZE: {
            int h = tps_hexval((unsigned char)c);
            if (h >= 0) {
                /* 7 hex digits = 256 MiB, far beyond anything sane; more is an attack. */
                if (++d->digits > 7)
                    goto bad;
                d->left = d->left * 16 + (unsigned long)h;
            } else if (d->digits > 0 && (c == ';' || c == ' ' || c == '\t')) {
                d->st = CH_EXT;
            } else if (d->digits > 0 && c == '\r') {
                d->st = CH_SIZE_LF;
            } else if (d->digits > 0 && c == '\n') {
                goto size_done;
            } else {
                goto bad;
            }
            i++;
            break;
        }
        case CH_EXT:
            if (c == '\n') {
                i++;
                goto size_done;
            }
            if (++d->line > 256)
                goto bad;
            if (c == '\r')
                d->st = CH_SIZE_LF;
            i++;
            break;
        case CH_SIZE_LF:
            if (c != '\n')
                goto bad;
            i++;
        size_done:
            d->digits = 0;
            d->line = 0;
            d->st = d->left ? CH_DATA : CH_TRAILER;
            break;
        case CH_DATA: {
            size_t take = len - i < d->left ? len - i : d->left;
            int rc;
            d->left -= take;
            if (d->left == 0) {
                d->st = CH_DATA_CR;
                d->chunks++;
            }
            rc = cb ? cb(ctx, buf + i, take) : 0;
            i += take;
            if (rc != 0)
                return rc;
            break;
        }
        case CH_DATA_CR:
            if (c == '\n') {
                d->st = CH_SIZE;
            } else if (c == '\r') {
                d->st = CH_DATA_LF;
            } else {
                goto bad;
            }
            i++;
            break;
        case CH_DATA_LF:
            if (c != '\n')
                goto bad;
            d->st = CH_SIZE;
            i++;
            break;
        case CH_TRAILER:
            /* trailer lines until an empty one */
            if (c == '\n') {
                if (d->line == 0)
                    d->st = CH_DONE;
                d->line = 0;
            } else if (c != '\r' || d->line > 0) {
                if (++d->line > 1024)
                    goto bad;
            }
            i++;
            break;
        case CH_DONE:
            break;
        }
    }
    return 0;
bad:
    d->broken = true;
    return -1;
}

size_t tpsd_chunk_encode(const void *data, size_t len, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%zX\r\n", len);
    if (n < 0 || (size_t)n + len + 2 > cap)
        return 0;
    memcpy(out + n, data, len);
    memcpy(out + n + len, "\r\n", 2);
    return (size_t)n + len + 2;
}
