/* vc_state.c: saving and loading the card's persistent state (see vc_state.h). */
#include "vc_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509.h>

#define MAGIC "vcard-state 1"

/* --- writing --- */

struct out {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = (o->cap ? o->cap * 2 : 4096) + n;
        char *b = realloc(o->buf, cap);
        if (!b) {
            o->failed = true;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static void putf(struct out *o, const char *fmt, ...)
{
    char b[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof(b), fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof(b))
        put(o, b, (size_t)n);
}

static void puthex(struct out *o, const uint8_t *p, size_t n)
{
    static const char d[] = "0123456789abcdef";
    char b[2];
    put(o, " ", 1);
    if (n == 0)
        put(o, "-", 1);
    for (size_t i = 0; i < n; i++) {
        b[0] = d[p[i] >> 4];
        b[1] = d[p[i] & 15];
        put(o, b, 2);
    }
}

static bool put_key(struct out *o, const struct vc_key *k, size_t n)
{
    unsigned char *der = NULL;
    int len = k->type == VC_KEY_RSA_PRIVATE_CRT ? i2d_PrivateKey(k->pkey, &der)
                                                : i2d_PUBKEY(k->pkey, &der);
    if (len <= 0)
        return false;
    putf(o, "key %lu", (unsigned long)n);
    putf(o, " %lu", (unsigned long)k->type);
    putf(o, " %lu", (unsigned long)(k->mate < 0 ? 255 : k->mate));
    for (int i = 0; i < 3; i++)
        putf(o, " %lu", (unsigned long)k->acl[i]);
    puthex(o, der, (size_t)len);
    put(o, "\n", 1);
    explicit_bzero(der, (size_t)len);
    OPENSSL_free(der);
    return true;
}

static void serialize(const struct vc_card *c, struct out *o)
{
    put(o, MAGIC "\n", strlen(MAGIC) + 1);
    put(o, "cplc", 4);
    puthex(o, c->cplc, VC_CPLC_LEN);
    putf(o, "\nscp %lu\n", (unsigned long)c->scp);
    putf(o, "seq %lu\n", (unsigned long)c->seq);
    for (size_t i = 0; i < c->n_keysets; i++) {
        putf(o, "keyset %lu", (unsigned long)c->keysets[i].version);
        puthex(o, c->keysets[i].enc, 16);
        puthex(o, c->keysets[i].mac, 16);
        puthex(o, c->keysets[i].kek, 16);
        put(o, "\n", 1);
    }
    putf(o, "current-keyset %lu\n", (unsigned long)c->cur_keyset);
    putf(o, "package %lu\n", (unsigned long)c->package_loaded);
    putf(o, "applet %lu\n", (unsigned long)c->applet_installed);
    putf(o, "lifecycle %lu\n", (unsigned long)c->lifecycle);
    put(o, "issuer", 6);
    puthex(o, c->issuer, VC_ISSUER_LEN);
    putf(o, "\nmemory %lu\n", (unsigned long)c->mem_size);
    putf(o, "acl %lu", (unsigned long)c->create_obj_acl);
    putf(o, " %lu", (unsigned long)c->create_key_acl);
    putf(o, " %lu", (unsigned long)c->create_pin_acl);
    putf(o, " %lu\n", (unsigned long)c->enable_acl_change);
    for (size_t i = 0; i < VC_MAX_PINS; i++) {
        const struct vc_pin *p = &c->pins[i];
        if (!p->present)
            continue;
        putf(o, "pin %lu", (unsigned long)i);
        putf(o, " %lu", (unsigned long)p->max_tries);
        putf(o, " %lu", (unsigned long)p->tries_left);
        puthex(o, p->value, p->len);
        put(o, "\n", 1);
    }
    for (size_t i = 0; i < c->n_objs; i++) {
        const struct vc_object *ob = &c->objs[i];
        put(o, "object", 6);
        puthex(o, ob->id, 4);
        for (int j = 0; j < 3; j++)
            putf(o, " %lu", (unsigned long)ob->acl[j]);
        puthex(o, ob->data, ob->size);
        put(o, "\n", 1);
    }
    for (size_t i = 0; i < VC_MAX_KEYS; i++)
        if (c->keys[i].type && !put_key(o, &c->keys[i], i))
            o->failed = true;
}

int vc_state_save(const struct vc_card *c, const char *path)
{
    struct out o = {0};
    char tmp[4096];
    int fd = -1, rc = -1;
    serialize(c, &o);
    if (o.failed) {
        fprintf(stderr, "vcard: cannot serialize the card state (out of memory)\n");
        goto out;
    }
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp)) {
        fprintf(stderr, "vcard: state file path is too long\n");
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "vcard: cannot create %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    for (size_t off = 0; off < o.len;) {
        ssize_t n = write(fd, o.buf + off, o.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "vcard: cannot write %s: %s\n", tmp, strerror(errno));
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        fprintf(stderr, "vcard: cannot sync %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "vcard: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    if (o.buf) {
        explicit_bzero(o.buf, o.len);
        free(o.buf);
    }
    return rc;
}

/* --- reading --- */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes a hex token ("-" = empty) into a malloc'd buffer. */
static uint8_t *unhex(const char *s, size_t *len)
{
    size_t n = strlen(s);
    if (strcmp(s, "-") == 0)
        n = 0;
    if (n % 2)
        return NULL;
    uint8_t *b = malloc(n / 2 + 1);
    if (!b)
        return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);
        if (h < 0 || l < 0) {
            free(b);
            return NULL;
        }
        b[i] = (uint8_t)(h << 4 | l);
    }
    *len = n / 2;
    return b;
}

static bool unhex_fixed(const char *s, uint8_t *out, size_t want)
{
    size_t n;
    uint8_t *b = s ? unhex(s, &n) : NULL;
    bool ok = b && n == want;
    if (ok)
        memcpy(out, b, want);
    if (b) {
        explicit_bzero(b, n);
        free(b);
    }
    return ok;
}

static bool num(const char *s, unsigned long max, unsigned long *v)
{
    char *end;
    if (!s || !*s || *s == '-')
        return false;
    errno = 0;
    *v = strtoul(s, &end, 10);
    return errno == 0 && *end == '\0' && *v <= max;
}

#define MAX_TOK 8

static bool parse_key(struct vc_card *c, char **t, size_t nt)
{
    unsigned long idx, type, mate, acl[3];
    size_t len;
    if (nt != 8 || !num(t[1], VC_MAX_KEYS - 1, &idx) || !num(t[2], 255, &type) ||
        !num(t[3], 255, &mate) || !num(t[4], 0xFFFF, &acl[0]) || !num(t[5], 0xFFFF, &acl[1]) ||
        !num(t[6], 0xFFFF, &acl[2]))
        return false;
    if ((type != VC_KEY_RSA_PUBLIC && type != VC_KEY_RSA_PRIVATE_CRT) ||
        (mate != 255 && mate >= VC_MAX_KEYS) || c->keys[idx].type)
        return false;
    uint8_t *der = unhex(t[7], &len);
    if (!der)
        return false;
    const uint8_t *p = der;
    EVP_PKEY *k = type == VC_KEY_RSA_PRIVATE_CRT ? d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)len)
                                                 : d2i_PUBKEY(NULL, &p, (long)len);
    explicit_bzero(der, len);
    free(der);
    if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA || EVP_PKEY_get_bits(k) > VC_MAX_RSA_BITS) {
        EVP_PKEY_free(k);
        return false;
    }
    const uint16_t a[3] = {(uint16_t)acl[0], (uint16_t)acl[1], (uint16_t)acl[2]};
    vc_key_put(c, (unsigned)idx, k, (uint8_t)type, mate == 255 ? -1 : (int)mate, a);
    return true;
}

static bool parse_line(struct vc_card *c, char **t, size_t nt)
{
    unsigned long v[4];
    const char *k = t[0];
    if (strcmp(k, "cplc") == 0)
        return nt == 2 && unhex_fixed(t[1], c->cplc, VC_CPLC_LEN);
    if (strcmp(k, "scp") == 0 && nt == 2 && num(t[1], 2, &v[0]) && v[0] >= 1)
        return c->scp = (int)v[0], true;
    if (strcmp(k, "seq") == 0 && nt == 2 && num(t[1], 0xFFFF, &v[0]))
        return c->seq = (uint16_t)v[0], true;
    if (strcmp(k, "keyset") == 0) {
        struct gp_keyset *ks = &c->keysets[c->n_keysets];
        if (nt != 5 || c->n_keysets == VC_MAX_KEYSETS || !num(t[1], 255, &v[0]) ||
            !unhex_fixed(t[2], ks->enc, 16) || !unhex_fixed(t[3], ks->mac, 16) ||
            !unhex_fixed(t[4], ks->kek, 16))
            return false;
        ks->version = (uint8_t)v[0];
        c->n_keysets++;
        return true;
    }
    if (strcmp(k, "current-keyset") == 0 && nt == 2 && num(t[1], VC_MAX_KEYSETS - 1, &v[0]))
        return c->cur_keyset = v[0], true;
    if (strcmp(k, "package") == 0 && nt == 2 && num(t[1], 1, &v[0]))
        return c->package_loaded = v[0], true;
    if (strcmp(k, "applet") == 0 && nt == 2 && num(t[1], 1, &v[0]))
        return c->applet_installed = v[0], true;
    if (strcmp(k, "lifecycle") == 0 && nt == 2 && num(t[1], 255, &v[0]))
        return c->lifecycle = (uint8_t)v[0], true;
    if (strcmp(k, "issuer") == 0)
        return nt == 2 && unhex_fixed(t[1], c->issuer, VC_ISSUER_LEN);
    if (strcmp(k, "memory") == 0 && nt == 2 && num(t[1], 0x7FFF, &v[0]))
        return c->mem_size = (uint16_t)v[0], true;
    if (strcmp(k, "acl") == 0 && nt == 5 && num(t[1], 0xFFFF, &v[0]) && num(t[2], 0xFFFF, &v[1]) &&
        num(t[3], 0xFFFF, &v[2]) && num(t[4], 255, &v[3])) {
        c->create_obj_acl = (uint16_t)v[0], c->create_key_acl = (uint16_t)v[1];
        c->create_pin_acl = (uint16_t)v[2], c->enable_acl_change = (uint8_t)v[3];
        return true;
    }
    if (strcmp(k, "pin") == 0) {
        size_t len;
        uint8_t *val;
        if (nt != 5 || !num(t[1], VC_MAX_PINS - 1, &v[0]) || !num(t[2], 255, &v[1]) ||
            !num(t[3], 255, &v[2]) || !(val = unhex(t[4], &len)))
            return false;
        bool ok = len >= 1 && len <= VC_PIN_MAX && v[2] <= v[1];
        if (ok) {
            vc_pin_set(&c->pins[v[0]], val, len, (uint8_t)v[1]);
            c->pins[v[0]].tries_left = (uint8_t)v[2];
        }
        explicit_bzero(val, len);
        free(val);
        return ok;
    }
    if (strcmp(k, "object") == 0) {
        uint8_t id[4];
        size_t len;
        uint8_t *data;
        if (nt != 6 || !unhex_fixed(t[1], id, 4) || !num(t[2], 0xFFFF, &v[0]) ||
            !num(t[3], 0xFFFF, &v[1]) || !num(t[4], 0xFFFF, &v[2]) || vc_obj_find(c, id) ||
            !(data = unhex(t[5], &len)))
            return false;
        const uint16_t acl[3] = {(uint16_t)v[0], (uint16_t)v[1], (uint16_t)v[2]};
        struct vc_object *o = vc_obj_add(c, id, len, acl);
        if (o)
            memcpy(o->data, data, len);
        explicit_bzero(data, len);
        free(data);
        return o != NULL;
    }
    if (strcmp(k, "key") == 0)
        return parse_key(c, t, nt);
    return false;
}

int vc_state_parse(struct vc_card *c, char *text)
{
    char *save = NULL, *line;
    size_t lineno = 0;
    vc_card_init(c);
    c->n_keysets = 0;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *t[MAX_TOK + 1], *s2 = NULL;
        size_t nt = 0;
        lineno++;
        if (lineno == 1) {
            if (strcmp(line, MAGIC) != 0)
                goto bad;
            continue;
        }
        for (char *tok = strtok_r(line, " ", &s2); tok && nt <= MAX_TOK;
             tok = strtok_r(NULL, " ", &s2))
            t[nt++] = tok;
        if (nt == 0 || nt > MAX_TOK || !parse_line(c, t, nt))
            goto bad;
    }
    if (lineno == 0 || c->n_keysets == 0 || c->cur_keyset >= c->n_keysets)
        goto bad;
    c->dirty = false;
    return 0;
bad:
    fprintf(stderr, "vcard: the card state is corrupt (line %zu)\n", lineno);
    vc_card_free(c);
    vc_card_init(c);
    return -1;
}

int vc_state_load(struct vc_card *c, const char *path)
{
    FILE *f = fopen(path, "re");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = -1;
    if (!f) {
        fprintf(stderr, "vcard: cannot open the card state %s: %s\n", path, strerror(errno));
        vc_card_init(c);
        return -1;
    }
    for (;;) {
        if (len + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *b = ncap <= (64u << 20) ? realloc(buf, ncap) : NULL;
            if (!b) {
                fprintf(stderr, "vcard: the card state %s is too large\n", path);
                vc_card_init(c);
                goto out;
            }
            buf = b, cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        fprintf(stderr, "vcard: the card state %s is not text\n", path);
        vc_card_init(c);
        goto out;
    }
    rc = vc_state_parse(c, buf);
out:
    fclose(f);
    if (buf) {
        explicit_bzero(buf, cap);
        free(buf);
    }
    return rc;
}
