/* tpsd_db: the token database file. */
#include "tpsd_db.h"

#include "tps_msg.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t db_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const status_names[TS_COUNT] = {
    "uninitialized", "formatted",           "active",    "disabled", "damaged", "lost",
    "suspended",     "temp_lost_perm_lost", "terminated"};

#define DB_LINE_MAX  4096
#define DB_MAX_BYTES (4 << 20)

const char *tpsd_tstatus_name(enum tpsd_tstatus s)
{
    return (unsigned)s < TS_COUNT ? status_names[s] : "unknown";
}

int tpsd_tstatus_op_allowed(enum tpsd_tstatus from, enum tpsd_tstatus to)
{
    if (to == TS_ACTIVE)
        return from == TS_FORMATTED || from == TS_ACTIVE;
    if (to == TS_FORMATTED)
        return from == TS_FORMATTED || from == TS_ACTIVE || from == TS_UNINITIALIZED;
    return 0;
}

static int plain_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '@' || c == '-' || c == ',' || c == ';' || c == '=';
}

static int escape(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    if (!*in)
        return snprintf(out, cap, "-") < (int)cap ? 0 : -1;
    for (; *in; in++) {
        if (plain_char(*in) && !(n == 0 && *in == '-' && !in[1])) {
            if (n + 1 >= cap)
                return -1;
            out[n++] = *in;
        } else {
            if (n + 3 >= cap)
                return -1;
            snprintf(out + n, 4, "%%%02X", (unsigned char)*in);
            n += 3;
        }
    }
    out[n] = '\0';
    return 0;
}

static int unescape(const char *in, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    if (len == 1 && in[0] == '-') {
        out[0] = '\0';
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= len)
                return -1;
            h = tps_hexval((unsigned char)in[i + 1]), l = tps_hexval((unsigned char)in[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return -1;
            c = (char)(h << 4 | l);
            i += 2;
        } else if (!plain_char(c)) {
            return -1;
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return 0;
}

int tpsd_db_parse_line(const char *line, struct tpsd_token *t)
{
    const char *p = line;
    size_t n = strcspn(p, " \t\n");
    int have_status = 0;
    memset(t, 0, sizeof(*t));
    if (n != 20)
        return -1;
    for (size_t i = 0; i < 20; i++)
        if (tps_hexval((unsigned char)p[i]) < 0)
            return -1;
    memcpy(t->cuid, p, 20);
    for (size_t i = 0; i < 20; i++)
        if (t->cuid[i] >= 'a')
            t->cuid[i] = (char)(t->cuid[i] - 'a' + 'A');
    p += n;
    while (*p) {
        const char *eq, *v;
        size_t klen, vlen;
        p += strspn(p, " \t\n");
        if (!*p)
            break;
        n = strcspn(p, " \t\n");
        eq = memchr(p, '=', n);
        if (!eq)
            return -1;
        klen = (size_t)(eq - p);
        v = eq + 1;
        vlen = n - klen - 1;
        if (klen == 6 && strncmp(p, "status", 6) == 0) {
            int found = 0;
            for (int i = 0; i < TS_COUNT; i++)
                if (strlen(status_names[i]) == vlen && strncmp(v, status_names[i], vlen) == 0)
                    t->status = (enum tpsd_tstatus)i, found = 1;
            if (!found)
                return -1;
            have_status = 1;
        } else if (klen == 5 && strncmp(p, "owner", 5) == 0) {
            if (unescape(v, vlen, t->owner, sizeof(t->owner)) < 0)
                return -1;
        } else if (klen == 4 && strncmp(p, "type", 4) == 0) {
            if (unescape(v, vlen, t->type, sizeof(t->type)) < 0)
                return -1;
        } else if (klen == 5 && strncmp(p, "certs", 5) == 0) {
            if (unescape(v, vlen, t->certs, sizeof(t->certs)) < 0)
                return -1;
        } else if (klen == 6 && strncmp(p, "policy", 6) == 0) {
            if (unescape(v, vlen, t->policy, sizeof(t->policy)) < 0)
                return -1;
        } else if (klen == 7 && strncmp(p, "updated", 7) == 0) {
            char tmp[24];
            char *end;
            if (vlen == 0 || vlen >= sizeof(tmp))
                return -1;
            memcpy(tmp, v, vlen);
            tmp[vlen] = '\0';
            errno = 0;
            t->updated = strtoll(tmp, &end, 10);
            if (errno || *end)
                return -1;
        } /* unknown keys are ignored (forward compatibility) */
        p += n;
    }
    return have_status ? 0 : -1;
}

size_t tpsd_db_format_line(const struct tpsd_token *t, char *out, size_t cap)
{
    char owner[3 * sizeof(t->owner)], type[3 * sizeof(t->type)], certs[3 * sizeof(t->certs)],
        policy[3 * sizeof(t->policy)];
    int n;
    if (escape(t->owner, owner, sizeof(owner)) < 0 || escape(t->type, type, sizeof(type)) < 0 ||
        escape(t->certs, certs, sizeof(certs)) < 0 || escape(t->policy, policy, sizeof(policy)) < 0)
        return 0;
    n = snprintf(out, cap, "%s status=%s owner=%s type=%s certs=%s updated=%lld%s%s\n", t->cuid,
                 tpsd_tstatus_name(t->status), owner, type, certs, t->updated,
                 t->policy[0] ? " policy=" : "", t->policy[0] ? policy : "");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Reads the whole file (NUL-terminated, malloc'd); NULL + *missing when absent. */
static char *read_all(const char *path, int *missing)
{
    FILE *fp = fopen(path, "re");
    char *buf;
    size_t n;
    *missing = 0;
    if (!fp) {
        *missing = errno == ENOENT;
        return NULL;
    }
    buf = malloc(DB_MAX_BYTES + 1);
    if (!buf) {
        fclose(fp);
        return NULL;
    }
    n = fread(buf, 1, DB_MAX_BYTES, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static int get_locked(const char *path, const char *cuid, struct tpsd_token *t)
{
    int missing, found = 1;
    char *buf = read_all(path, &missing), *save = NULL, *line;
    if (!buf)
        return missing ? 1 : -1;
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct tpsd_token cand;
        if (line[0] == '#' || tpsd_db_parse_line(line, &cand) < 0)
            continue;
        if (strcasecmp(cand.cuid, cuid) == 0) {
            *t = cand;
            found = 0;
        }
    }
    free(buf);
    return found;
}

int tpsd_db_get(const char *path, const char *cuid, struct tpsd_token *t)
{
    int rc;
    pthread_mutex_lock(&db_lock);
    rc = get_locked(path, cuid, t);
    pthread_mutex_unlock(&db_lock);
    return rc;
}

int tpsd_db_put(const char *path, const struct tpsd_token *t)
{
    char tmp[4200], line[DB_LINE_MAX];
    char *buf, *save = NULL, *l;
    int missing, rc = -1;
    FILE *fp = NULL;
    size_t n = tpsd_db_format_line(t, line, sizeof(line));
    if (n == 0 || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return -1;
    pthread_mutex_lock(&db_lock);
    buf = read_all(path, &missing);
    if (!buf && !missing)
        goto out;
    fp = fopen(tmp, "we");
    if (!fp)
        goto out;
    fputs("# reference TPS token database (tests/tps/README.md)\n", fp);
    for (l = buf ? strtok_r(buf, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
        struct tpsd_token cand;
        if (l[0] == '#' || tpsd_db_parse_line(l, &cand) < 0 || strcasecmp(cand.cuid, t->cuid) == 0)
            continue;
        fprintf(fp, "%s\n", l);
    }
    fputs(line, fp);
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
        goto out;
    if (fclose(fp) != 0) {
        fp = NULL;
        goto out;
    }
    fp = NULL;
    if (rename(tmp, path) != 0)
        goto out;
    rc = 0;
out:
    if (fp)
        fclose(fp);
    if (rc != 0)
        unlink(tmp);
    free(buf);
    pthread_mutex_unlock(&db_lock);
    return rc;
}
