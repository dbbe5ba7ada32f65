/* http_resp: an HTTP/1.x response head parser and body decoder, incremental (http_resp.h). */
#include "http_resp.h"

#include <string.h>
#include <strings.h>

enum {
    CS_SIZE = 0, /* hex digits of a chunk size */
    CS_EXT,      /* after the size: extensions up to the end of the line */
    CS_SIZE_LF,  /* the size line's CR was seen */
    CS_DATA,     /* chunk data, `left` bytes to go */
    CS_DATA_CR,  /* the CRLF after the data */
    CS_DATA_LF,
    CS_TRAILER, /* trailer lines, up to an empty one */
    CS_END_LF,  /* the last empty line's CR was seen */
};

#define CL_MAX_DIGITS 18 /* a Content-Length that fits an unsigned long long with room */

void http_resp_init(struct http_resp *r)
{
    r->hlen = 0;
    r->head_done = false;
    r->status = 0;
    r->body = HTTP_BODY_CLOSE;
    r->cst = CS_SIZE;
    r->left = 0;
    r->digits = 0;
    r->line = 0;
    r->done = false;
    r->broken = false;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* The line [s, e) trimmed of a trailing CR. */
static const char *line_end(const char *s, const char *e)
{
    return e > s && e[-1] == '\r' ? e - 1 : e;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* hex digit value + 1 by character, 0: not a hex digit */
static const unsigned char hexv1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/* A whole chunk "<hex>\r\n<data>\r\n" at buf[i..len) (data not empty, 15 digits at most):
 * its data's offset and length, and the offset past it; false for anything else, which the
 * byte-by-byte states read (and refuse when it is wrong). One step for the chunk a TPS
 * message comes in: the states cost a step per size digit and per CRLF byte. */
static bool whole_chunk(const char *buf, size_t i, size_t len, size_t *data, size_t *n,
                        size_t *next)
{
    unsigned long long v = 0;
    size_t j = i;
    unsigned d;
    while (j < len && j - i < 15 && (d = hexv1[(unsigned char)buf[j]]) != 0) {
        v = v * 16 + (d - 1);
        j++;
    }
    if (j == i || v == 0 || len - j < 4 || buf[j] != '\r' || buf[j + 1] != '\n' ||
        v > len - j - 4 || buf[j + 2 + v] != '\r' || buf[j + 3 + v] != '\n')
        return false;
    *data = j + 2;
    *n = (size_t)v;
    *next = j + 4 + (size_t)v;
    return true;
}

/* "HTTP/1.<d> <ddd>[ <reason>]" */
static int parse_status(const char *s, const char *e)
{
    size_t n = (size_t)(e - s);
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' || s[8] != ' ')
        return -1;
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        code = code * 10 + (s[i] - '0');
    }
    if (n > 12 && s[12] != ' ')
        return -1;
    return code < 100 ? -1 : code;
}

/* Does the last coding of a Transfer-Encoding value [v, e) name chunked? */
static bool last_coding_chunked(const char *v, const char *e)
{
    const char *c = e;
    while (c > v && c[-1] != ',')
        c--;
    while (c < e && is_ows(*c))
        c++;
    while (e > c && is_ows(e[-1]))
        e--;
    return (size_t)(e - c) == 7 && strncasecmp(c, "chunked", 7) == 0;
}

/* A Content-Length value: digits only. */
static int parse_length(const char *v, const char *e, unsigned long long *out)
{
    unsigned long long n = 0;
    if (v == e || e - v > CL_MAX_DIGITS)
        return -1;
    for (; v < e; v++) {
        if (*v < '0' || *v > '9')
            return -1;
        n = n * 10 + (unsigned)(*v - '0');
    }
    *out = n;
    return 0;
}

/* The complete head in r->head[0, r->hlen): status and body framing. */
static int parse_head(struct http_resp *r)
{
    const char *p = r->head, *end = r->head + r->hlen;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    bool te = false, te_chunked = false, cl = false;
    unsigned long long len = 0;
    if (memchr(p, '\0', r->hlen) || !nl)
        return -1;
    if ((r->status = parse_status(p, line_end(p, nl))) < 0)
        return -1;
    for (p = nl + 1; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = line_end(p, nl);
        if (le == p)
            break; /* the blank line */
        if (is_ows(*p))
            return -1; /* obsolete line folding */
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (!colon || colon == p || is_ows(colon[-1]))
            return -1;
        const char *v = colon + 1, *ve = le;
        while (v < ve && is_ows(*v))
            v++;
        while (ve > v && is_ows(ve[-1]))
            ve--;
        size_t nlen = (size_t)(colon - p);
        if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
            te = true;
            te_chunked = last_coding_chunked(v, ve);
        } else if (nlen == 14 && strncasecmp(p, "content-length", 14) == 0) {
            unsigned long long n;
            if (parse_length(v, ve, &n) < 0 || (cl && n != len))
                return -1;
            cl = true;
            len = n;
        }
    }
    if (te) {
        r->body = te_chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_CLOSE;
    } else if (cl) {
        r->body = HTTP_BODY_LENGTH;
        r->left = len;
        r->done = len == 0;
    } else {
        r->body = HTTP_BODY_CLOSE;
    }
    return 0;
}

long http_resp_head(struct http_resp *r, const char *buf, size_t len)
{
    size_t used = 0;
    if (r->broken)
        return -1;
    while (!r->head_done && used < len) {
        size_t room = sizeof r->head - r->hlen, take = len - used;
        if (room == 0) {
            r->broken = true;
            return -1;
        }
        if (take > room)
            take = room;
        size_t from = r->hlen;
        memcpy(r->head + r->hlen, buf + used, take);
        r->hlen += take;
        /* the end of the head: an empty line, "\n\r\n" or "\n\n" */
        size_t s = from > 2 ? from - 2 : 0, endp = 0;
        for (size_t i = s; i < r->hlen && !endp; i++) {
            if (r->head[i] != '\n' || i == 0)
                continue;
            if (r->head[i - 1] == '\n' ||
                (i >= 2 && r->head[i - 1] == '\r' && r->head[i - 2] == '\n'))
                endp = i + 1;
        }
        if (!endp) {
            used += take;
            continue;
        }
        used += endp - from;
        r->hlen = endp;
        if (parse_head(r) < 0) {
            r->broken = true;
            return -1;
        }
        if (r->status >= 100 && r->status < 200 && r->status != 101) {
            r->hlen = 0; /* an interim answer: the real one follows */
            r->left = 0;
            r->done = false;
            continue;
        }
        r->head_done = true;
    }
    return (long)used;
}

/* Chunked: one step over buf[*i], possibly handing data to cb. */
static int chunked(struct http_resp *r, const char *buf, size_t len, http_resp_cb cb, void *ctx)
{
    size_t i = 0;
    while (i < len && !r->done) {
        char c = buf[i];
        int v;
        size_t at, n, next;
        if (r->cst == CS_SIZE && r->digits == 0 && whole_chunk(buf, i, len, &at, &n, &next)) {
            /* as the states would leave it if cb stops here: the data's CRLF to come */
            r->left = 0;
            r->cst = CS_DATA_CR;
            int rc = cb(ctx, buf + at, n);
            if (rc)
                return rc;
            r->cst = CS_SIZE;
            i = next;
            continue;
        }
        switch (r->cst) {
        case CS_SIZE:
            /* the digits in one go, and "\r\n" after them when it is there: one step of this
             * loop per byte was most of the cost of a chunk */
            while ((v = hexval(c)) >= 0) {
                if (++r->digits > 15)
                    return -1;
                r->left = r->left * 16 + (unsigned)v;
                if (++i == len)
                    return 0;
                c = buf[i];
            }
            if (r->digits == 0)
                return -1;
            if (c == '\r' && i + 1 < len && buf[i + 1] == '\n') {
                i += 2;
                r->line = 0;
                r->cst = r->left ? CS_DATA : CS_TRAILER;
            } else if (c == ';' || is_ows(c)) {
                r->cst = CS_EXT;
                r->line = 0;
            } else if (c == '\r') {
                r->cst = CS_SIZE_LF;
                i++;
            } else if (c == '\n') {
                r->cst = CS_SIZE_LF;
            } else {
                return -1;
            }
            break;
        case CS_EXT:
            if (c == '\r' || c == '\n') {
                r->cst = CS_SIZE_LF;
                i += c == '\r';
            } else if (++r->line > HTTP_RESP_LINE_MAX) {
                return -1;
            } else {
                i++;
            }
            break;
        case CS_SIZE_LF:
            if (c != '\n')
                return -1;
            i++;
            r->line = 0;
            r->cst = r->left ? CS_DATA : CS_TRAILER;
            break;
        case CS_DATA: {
            size_t k = len - i;
            if (k > r->left)
                k = (size_t)r->left;
            r->left -= k;
            if (r->left == 0)
                r->cst = CS_DATA_CR;
            int rc = cb(ctx, buf + i, k);
            if (rc)
                return rc;
            i += k;
            break;
        }
        case CS_DATA_CR:
            if (c == '\r' && i + 1 < len && buf[i + 1] == '\n') { /* the usual CRLF at once */
                r->cst = CS_SIZE;
                r->digits = 0;
                i++;
            } else if (c == '\n') {
                r->cst = CS_SIZE;
                r->digits = 0;
            } else if (c == '\r') {
                r->cst = CS_DATA_LF;
            } else {
                return -1;
            }
            i++;
            break;
        case CS_DATA_LF:
            if (c != '\n')
                return -1;
            r->cst = CS_SIZE;
            r->digits = 0;
            i++;
            break;
        case CS_TRAILER:
            if (c == '\n') {
                r->done = r->line == 0;
                r->line = 0;
            } else if (c == '\r' && r->line == 0) {
                r->cst = CS_END_LF;
            } else if (++r->line > HTTP_RESP_LINE_MAX) {
                return -1;
            }
            i++;
            break;
        case CS_END_LF:
            if (c != '\n')
                return -1;
            r->done = true;
            i++;
            break;
        default:
            return -1;
        }
    }
    return 0;
}

int http_resp_body(struct http_resp *r, const char *buf, size_t len, http_resp_cb cb, void *ctx)
{
    if (r->broken || !r->head_done)
        return -1;
    if (r->done || len == 0)
        return 0;
    switch (r->body) {
    case HTTP_BODY_CHUNKED: {
        int rc = chunked(r, buf, len, cb, ctx);
        if (rc == -1)
            r->broken = true;
        return rc;
    }
    case HTTP_BODY_LENGTH: {
        size_t k = len < r->left ? len : (size_t)r->left;
        r->left -= k;
        r->done = r->left == 0;
        return k ? cb(ctx, buf, k) : 0;
    }
    default:
        return cb(ctx, buf, len);
    }
}
