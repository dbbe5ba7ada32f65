/* escctl diag: reading pam_pkcs11.conf, sssd.conf and the PAM stack (escctl_diag_login.h).
 * Every byte is input from a file an administrator (or anyone who could write it) wrote:
 * bounded copies, a depth limit, one sentence naming file:line on error. */
#include "escctl_diag_login.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reading a file ---- */

int dpc_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    char *buf;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    *text = NULL;
    *len = 0;
    if (fd < 0) {
        snprintf(err, errlen, "%s cannot be read (%s)", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > DPC_FILE_MAX) {
        snprintf(err, errlen, "%s is not a regular file of at most %d KiB", path,
                 DPC_FILE_MAX / 1024);
        close(fd);
        return -1;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "out of memory reading %s", path);
        return -1;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return 0;
}

static void copy(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void put(char *dst, size_t cap, const char *src)
{
    copy(dst, cap, src, strnlen(src, cap - 1));
}

static bool is_true(const char *v)
{
    return strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0;
}

/* ---- scconf (pam_pkcs11.conf) ---- */

enum tok { T_EOF, T_WORD, T_LBRACE, T_RBRACE, T_EQ, T_COMMA, T_SEMI, T_BAD };

struct lex {
    const char *p, *end, *name;
    unsigned line;
    char word[DPC_VALUE_MAX];
    char *err;
    size_t errlen;
};

static enum tok next(struct lex *l)
{
    for (;;) {
        while (l->p < l->end && isspace((unsigned char)*l->p)) {
            if (*l->p == '\n')
                l->line++;
            l->p++;
        }
        if (l->p < l->end && *l->p == '#') {
            while (l->p < l->end && *l->p != '\n')
                l->p++;
            continue;
        }
        break;
    }
    if (l->p >= l->end)
        return T_EOF;
    if (*l->p == '\0') /* (strchr below would match it and never advance) */
        return T_BAD;
    switch (*l->p) {
    case '{':
        l->p++;
        return T_LBRACE;
    case '}':
        l->p++;
        return T_RBRACE;
    case '=':
        l->p++;
        return T_EQ;
    case ',':
        l->p++;
        return T_COMMA;
    case ';':
        l->p++;
        return T_SEMI;
    case '"': {
        const char *s = ++l->p;
        while (l->p < l->end && *l->p != '"' && *l->p != '\n')
            l->p++;
        if (l->p >= l->end || *l->p != '"')
            return T_BAD;
        copy(l->word, sizeof l->word, s, (size_t)(l->p - s));
        l->p++;
        return T_WORD;
    }
    default: {
        const char *s = l->p;
        while (l->p < l->end && *l->p && !isspace((unsigned char)*l->p) &&
               !strchr("{}=,;#\"", *l->p))
            l->p++;
        copy(l->word, sizeof l->word, s, (size_t)(l->p - s));
        return T_WORD;
    }
    }
}

static int lex_error(struct lex *l, const char *what)
{
    snprintf(l->err, l->errlen, "%s:%u: %s", l->name, l->line, what);
    return -1;
}

struct pk_module {
    char name[128];
    char ca_dir[DPC_VALUE_MAX], cert_policy[DPC_VALUE_MAX];
};

struct pk_state {
    struct dpc_pkcs11 *out;
    struct pk_module modules[DPC_MODULES_MAX];
    size_t nmodules;
    struct dpc_mapper blocks[DPC_MAPPERS_MAX]; /* the mapper blocks, in file order */
    size_t nblocks;
    char use_mappers[DPC_VALUE_MAX];
};

/* One `key = values;` inside the blocks blk[0..depth-1] ("pam_pkcs11", "mapper cn"). */
static void pk_assign(struct pk_state *st, char blk[][160], unsigned depth, const char *key,
                      const char *val)
{
    if (depth == 0 || strcmp(blk[0], "pam_pkcs11") != 0)
        return;
    if (depth == 1) {
        if (strcmp(key, "use_pkcs11_module") == 0)
            put(st->out->use_module, sizeof st->out->use_module, val);
        else if (strcmp(key, "use_mappers") == 0)
            put(st->use_mappers, sizeof st->use_mappers, val);
        return;
    }
    if (depth != 2)
        return;
    if (strncmp(blk[1], "pkcs11_module ", 14) == 0) {
        struct pk_module *m = NULL;
        for (size_t i = 0; i < st->nmodules && !m; i++)
            if (strcmp(st->modules[i].name, blk[1] + 14) == 0)
                m = &st->modules[i];
        if (!m && st->nmodules < DPC_MODULES_MAX) {
            m = &st->modules[st->nmodules++];
            put(m->name, sizeof m->name, blk[1] + 14);
        }
        if (m && strcmp(key, "ca_dir") == 0)
            put(m->ca_dir, sizeof m->ca_dir, val);
        else if (m && strcmp(key, "cert_policy") == 0)
            put(m->cert_policy, sizeof m->cert_policy, val);
    } else if (strncmp(blk[1], "mapper ", 7) == 0) {
        struct dpc_mapper *m = NULL;
        for (size_t i = 0; i < st->nblocks && !m; i++)
            if (strcmp(st->blocks[i].name, blk[1] + 7) == 0)
                m = &st->blocks[i];
        if (!m && st->nblocks < DPC_MAPPERS_MAX) {
            m = &st->blocks[st->nblocks++];
            put(m->name, sizeof m->name, blk[1] + 7);
            snprintf(m->default_user, sizeof m->default_user, "nobody");
            m->has_block = true;
        }
        if (!m)
            return;
        if (strcmp(key, "module") == 0)
            put(m->module, sizeof m->module, val);
        else if (strcmp(key, "mapfile") == 0)
            put(m->mapfile, sizeof m->mapfile, val);
        else if (strcmp(key, "ignorecase") == 0)
            m->ignorecase = is_true(val);
        else if (strcmp(key, "default_match") == 0)
            m->default_match = is_true(val);
        else if (strcmp(key, "default_user") == 0)
            put(m->default_user, sizeof m->default_user, val);
    }
}

#define SCCONF_DEPTH 6

static int pk_items(struct lex *l, struct pk_state *st, char blk[][160], unsigned depth)
{
    char key[160], val[DPC_VALUE_MAX];
    enum tok t;

    for (;;) {
        t = next(l);
        if (t == T_EOF)
            return depth == 0 ? 0 : lex_error(l, "a block is not closed with }");
        if (t == T_RBRACE)
            return depth > 0 ? 0 : lex_error(l, "} without a block to close");
        if (t != T_WORD)
            return lex_error(l, "a name was expected");
        put(key, sizeof key, l->word);
        t = next(l);
        if (t == T_EQ) { /* key = v1, v2; */
            val[0] = '\0';
            for (;;) {
                size_t used;
                if (next(l) != T_WORD)
                    return lex_error(l, "a value was expected after = or ,");
                used = strlen(val);
                if (used && used + 2 < sizeof val)
                    memcpy(val + used, ", ", 3), used += 2;
                put(val + used, sizeof val - used, l->word);
                t = next(l);
                if (t == T_SEMI)
                    break;
                if (t != T_COMMA)
                    return lex_error(l, "; was expected after the value");
            }
            pk_assign(st, blk, depth, key, val);
            continue;
        }
        /* name [value...] { */
        if (depth >= SCCONF_DEPTH)
            return lex_error(l, "blocks are nested too deep");
        put(blk[depth], 160, key);
        while (t == T_WORD) {
            size_t used = strlen(blk[depth]);
            if (used + 1 < 160) {
                blk[depth][used++] = ' ';
                put(blk[depth] + used, 160 - used, l->word);
            }
            t = next(l);
        }
        if (t != T_LBRACE)
            return lex_error(l, "= or { was expected after a name");
        if (pk_items(l, st, blk, depth + 1) != 0)
            return -1;
    }
}

int dpc_parse_pkcs11(const char *text, size_t len, const char *name, struct dpc_pkcs11 *out,
                     char *err, size_t errlen)
{
    static struct pk_state st; /* large; escctl runs one diag at a time */
    char blk[SCCONF_DEPTH][160];
    struct lex l = {
        .p = text, .end = text + len, .name = name, .line = 1, .err = err, .errlen = errlen};

    memset(out, 0, sizeof *out);
    memset(&st, 0, sizeof st);
    st.out = out;
    if (pk_items(&l, &st, blk, 0) != 0)
        return -1;
    for (size_t i = 0; i < st.nmodules; i++) {
        if (strcmp(st.modules[i].name, out->use_module) != 0)
            continue;
        out->module_found = true;
        put(out->ca_dir, sizeof out->ca_dir, st.modules[i].ca_dir);
        put(out->cert_policy, sizeof out->cert_policy, st.modules[i].cert_policy);
    }
    /* use_mappers, in order; a mapper without a block keeps pam_pkcs11's defaults */
    for (const char *p = st.use_mappers; *p && out->nmappers < DPC_MAPPERS_MAX;) {
        size_t n = strcspn(p, ", \t");
        struct dpc_mapper *m = &out->mappers[out->nmappers];
        if (n) {
            memset(m, 0, sizeof *m);
            copy(m->name, sizeof m->name, p, n);
            snprintf(m->default_user, sizeof m->default_user, "nobody");
            for (size_t i = 0; i < st.nblocks; i++)
                if (strcmp(st.blocks[i].name, m->name) == 0)
                    *m = st.blocks[i];
            out->nmappers++;
        }
        p += n;
        p += strspn(p, ", \t");
    }
    return 0;
}

/* ---- sssd.conf (INI) ---- */

static void trim(const char **s, const char **e)
{
    while (*s < *e && isspace((unsigned char)**s))
        (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

int dpc_parse_sssd(const char *text, size_t len, const char *name, struct dpc_sssd *out, char *err,
                   size_t errlen)
{
    const char *p = text, *end = text + len;
    char section[256] = "";
    struct dpc_rule *rule = NULL;
    unsigned line = 0;

    memset(out, 0, sizeof *out);
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p)), *s = p, *eq;
        char key[64], val[DPC_VALUE_MAX];
        if (!e)
            e = end;
        p = e < end ? e + 1 : end;
        line++;
        trim(&s, &e);
        if (s == e || *s == '#' || *s == ';')
            continue;
        if (memchr(s, '\0', (size_t)(e - s))) {
            snprintf(err, errlen, "%s:%u: a NUL byte", name, line);
            return -1;
        }
        if (*s == '[') {
            if (e[-1] != ']' || e - s < 3) {
                snprintf(err, errlen, "%s:%u: a section header must be [name]", name, line);
                return -1;
            }
            copy(section, sizeof section, s + 1, (size_t)(e - s - 2));
            rule = NULL;
            if (strncmp(section, "certmap/", 8) == 0 && out->nrules < DPC_RULES_MAX) {
                rule = &out->rules[out->nrules++];
                put(rule->name, sizeof rule->name, section);
            }
            continue;
        }
        eq = memchr(s, '=', (size_t)(e - s));
        if (!eq) {
            snprintf(err, errlen, "%s:%u: key = value was expected", name, line);
            return -1;
        }
        {
            const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
            trim(&ks, &ke);
            trim(&vs, &ve);
            copy(key, sizeof key, ks, (size_t)(ke - ks));
            copy(val, sizeof val, vs, (size_t)(ve - vs));
        }
        if (strcmp(section, "pam") == 0 && strcmp(key, "pam_cert_auth") == 0)
            out->cert_auth = is_true(val);
        else if (strcmp(section, "pam") == 0 && strcmp(key, "pam_cert_db_path") == 0)
            put(out->ca_db, sizeof out->ca_db, val);
        else if (rule && strcmp(key, "matchrule") == 0)
            put(rule->matchrule, sizeof rule->matchrule, val);
        else if (rule && strcmp(key, "maprule") == 0)
            put(rule->maprule, sizeof rule->maprule, val);
    }
    return 0;
}

/* ---- the PAM stack ---- */

/* The module a PAM file's auth lines call: 1 found (module set), 0 none. `depth` limits the
 * includes followed. */
static int scan_pam_file(const char *dir, const char *file, unsigned depth, char *module,
                         size_t mcap, char *where, size_t wcap)
{
    char path[4096], err[256], *text;
    size_t len;
    int found = 0;

    if (strchr(file, '/') || strlen(dir) + strlen(file) + 2 > sizeof path)
        return 0;
    snprintf(path, sizeof path, "%.2000s/%.255s", dir, file);
    if (dpc_read_file(path, &text, &len, err, sizeof err) != 0)
        return 0;
    for (char *line = text, *nl; line && *line && !found; line = nl) {
        char w[3][256] = {"", "", ""};
        nl = strchr(line, '\n');
        if (nl)
            *nl++ = '\0';
        line += strspn(line, " \t");
        if (*line == '#')
            continue;
        if (sscanf(line, "%255s %255s %255s", w[0], w[1], w[2]) < 1)
            continue;
        if (strcmp(w[0], "@include") == 0) {
            if (depth)
                found = scan_pam_file(dir, w[1], depth - 1, module, mcap, where, wcap);
            continue;
        }
        if (strcmp(w[0], "auth") != 0 && strcmp(w[0], "-auth") != 0)
            continue;
        if (strcmp(w[1], "include") == 0 || strcmp(w[1], "substack") == 0) {
            if (depth)
                found = scan_pam_file(dir, w[2], depth - 1, module, mcap, where, wcap);
            continue;
        }
        if (strstr(line, "pam_pkcs11.so")) {
            snprintf(module, mcap, "pam_pkcs11");
            found = 1;
        } else if (strstr(line, "pam_sss.so") &&
                   (strstr(line, "try_cert_auth") || strstr(line, "require_cert_auth") ||
                    strcmp(file, "gdm-smartcard") == 0)) {
            snprintf(module, mcap, "pam_sss");
            found = 1;
        }
        if (found)
            put(where, wcap, path);
    }
    free(text);
    return found;
}

int dpc_detect_module(const char *pam_dir, char *module, size_t mcap, char *file, size_t fcap)
{
    static const char *const files[] = {"gdm-smartcard", "login", "common-auth"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (scan_pam_file(pam_dir, files[i], 1, module, mcap, file, fcap))
            return 1;
    return 0;
}
