/* pe_cache: pam_esc's decision cache (pe_cache.h has the rules and why they are enough). */
#include "pe_cache.h"

#include "decision_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PE_CACHE_NAME  "card"
#define PE_CACHE_MAGIC "pam_esc-cache 1\n"

/* dir exists (or is made) as a directory of the effective user, 0700, not a symlink */
static bool own_private_dir(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return false;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return false;
    return st.st_uid == geteuid() && (st.st_mode & 0777) == 0700;
}

bool pe_cache_pcscd(char *id, size_t cap)
{
    return decision_pcscd_id(id, cap);
}

bool pe_cache_dir(char *dir, size_t cap)
{
    const char *rt;
    struct stat st;
    int n;

    if (geteuid() == 0) {
        n = snprintf(dir, cap, "/run/pam_esc");
    } else {
        /* the user's runtime directory, only if it is really the user's own */
        rt = getenv("XDG_RUNTIME_DIR");
        if (!rt || rt[0] != '/' || lstat(rt, &st) != 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid != geteuid() || (st.st_mode & 0077) != 0)
            return false;
        n = snprintf(dir, cap, "%s/pam_esc", rt);
    }
    if (n < 0 || (size_t)n >= cap)
        return false;
    return own_private_dir(dir);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Next line of buf (without '\n') that starts with key; advances *pos. */
static bool take(const char *buf, size_t len, size_t *pos, const char *key, const char **val,
                 size_t *vlen)
{
    size_t kl = strlen(key), end;
    const char *nl;

    if (*pos >= len || len - *pos < kl || memcmp(buf + *pos, key, kl) != 0)
        return false;
    nl = memchr(buf + *pos, '\n', len - *pos);
    if (!nl)
        return false;
    end = (size_t)(nl - buf);
    *val = buf + *pos + kl;
    *vlen = end - *pos - kl;
    *pos = end + 1;
    return true;
}

/* a decimal number of at most 18 digits, no leading zero, nothing else */
static bool num(const char *v, size_t n, int64_t *out)
{
    int64_t x = 0;

    if (n == 0 || n > 18 || (n > 1 && v[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return true;
}

bool pe_cache_parse(const char *buf, size_t len, struct pe_cache_entry *e)
{
    size_t pos = 0, vl;
    const char *v;
    int64_t x;

    memset(e, 0, sizeof *e);
    if (!buf || len < sizeof PE_CACHE_MAGIC - 1 || len > PE_CACHE_FILE_MAX ||
        memcmp(buf, PE_CACHE_MAGIC, sizeof PE_CACHE_MAGIC - 1) != 0)
        return false;
    pos = sizeof PE_CACHE_MAGIC - 1;
    if (!take(buf, len, &pos, "pcscd=", &v, &vl) || vl == 0 || vl >= sizeof e->pcscd ||
        memchr(v, '\0', vl))
        return false;
    memcpy(e->pcscd, v, vl);
    if (!take(buf, len, &pos, "reader=", &v, &vl) || vl == 0 || vl >= sizeof e->reader ||
        memchr(v, '\0', vl))
        return false;
    memcpy(e->reader, v, vl);
    if (!take(buf, len, &pos, "events=", &v, &vl) || !num(v, vl, &x) || x > 0xFFFF)
        return false;
    e->event_count = (unsigned)x;
    if (!take(buf, len, &pos, "atr=", &v, &vl) || vl == 0 || vl % 2 || vl / 2 > PCSC_ATR_MAX)
        return false;
    for (size_t i = 0; i < vl / 2; i++) {
        int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        e->atr[i] = (uint8_t)(hi << 4 | lo);
    }
    e->atr_len = vl / 2;
    if (!take(buf, len, &pos, "tries=", &v, &vl) || !num(v, vl, &x) || x < 1 || x > 255)
        return false;
    e->tries = (int)x;
    if (!take(buf, len, &pos, "not_after=", &v, &vl) || !num(v, vl, &x))
        return false;
    e->not_after = x;
    if (!take(buf, len, &pos, "confirmed=", &v, &vl) || vl != 1 || (v[0] != '0' && v[0] != '1'))
        return false;
    e->confirmed = v[0] == '1';
    return pos == len;
}

size_t pe_cache_format(const struct pe_cache_entry *e, char *buf, size_t cap)
{
    char atr[2 * PCSC_ATR_MAX + 1];
    int n;

    if (e->atr_len == 0 || e->atr_len > PCSC_ATR_MAX || !e->reader[0] || !e->pcscd[0] ||
        strchr(e->reader, '\n') || strchr(e->pcscd, '\n') || e->tries < 1 || e->tries > 255 ||
        e->not_after < 0)
        return 0;
    for (size_t i = 0; i < e->atr_len; i++)
        snprintf(atr + 2 * i, 3, "%02x", e->atr[i]);
    n = snprintf(buf, cap,
                 PE_CACHE_MAGIC
                 "pcscd=%s\nreader=%s\nevents=%u\natr=%s\ntries=%d\nnot_after=%" PRId64
                 "\nconfirmed=%d\n",
                 e->pcscd, e->reader, e->event_count & 0xFFFFu, atr, e->tries, e->not_after,
                 e->confirmed ? 1 : 0);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static bool load_file(const char *path, struct pe_cache_entry *e)
{
    char buf[PE_CACHE_FILE_MAX + 1];
    struct stat st;
    ssize_t n;
    bool ok;
    int fd;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
         (st.st_mode & 0077) == 0 && st.st_size <= PE_CACHE_FILE_MAX;
    n = ok ? read(fd, buf, sizeof buf) : -1;
    close(fd);
    return n > 0 && n <= PE_CACHE_FILE_MAX && pe_cache_parse(buf, (size_t)n, e);
}

bool pe_cache_load(const char *dir, const char *pcscd, struct pe_cache_entry *e)
{
    char path[PE_CACHE_DIR_MAX + 24];
    return decision_path(dir, pcscd, false, path, sizeof path) && load_file(path, e);
}

bool pe_cache_load_used(const char *dir, const char *pcscd, struct pe_cache_entry *e)
{
    char path[PE_CACHE_DIR_MAX + 24];
    return decision_path(dir, pcscd, true, path, sizeof path) && load_file(path, e);
}

void pe_cache_retire(const char *dir, const char *pcscd)
{
    char path[PE_CACHE_DIR_MAX + 24], used[PE_CACHE_DIR_MAX + 24];

    if (!decision_path(dir, pcscd, false, path, sizeof path) ||
        !decision_path(dir, pcscd, true, used, sizeof used))
        return;
    /* the used name is free (pe_cache_store removed it with the entry it wrote): a rename
     * that replaced a file would make ext4 write the renamed file's data out at once
     * (auto_da_alloc), 0.3 ms here in the time to the PIN prompt, the entry having been
     * written by the last login's pam_sm_setcred moments before */
    rename(path, used);
}

bool pe_cache_store(const char *dir, const struct pe_cache_entry *e)
{
    char path[PE_CACHE_DIR_MAX + 24], tmp[PE_CACHE_DIR_MAX + 24], buf[PE_CACHE_FILE_MAX];
    size_t len = pe_cache_format(e, buf, sizeof buf);
    bool ok;
    int fd;

    if (len == 0 || !decision_path(dir, e->pcscd, false, path, sizeof path) ||
        snprintf(tmp, sizeof tmp, "%s/." PE_CACHE_NAME ".XXXXXX", dir) >= (int)sizeof tmp) {
        pe_cache_forget(dir, e->pcscd);
        return false;
    }
    fd = mkostemp(tmp, O_CLOEXEC); /* 0600, a new name: nothing else can be behind it */
    if (fd < 0) {
        pe_cache_forget(dir, e->pcscd);
        return false;
    }
    ok = write(fd, buf, len) == (ssize_t)len;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        unlink(tmp);
        pe_cache_forget(dir, e->pcscd);
    } else if (decision_path(dir, e->pcscd, true, path, sizeof path)) {
        unlink(path); /* its tries count is in the entry now (pe_cache_pam.c) */
    }
    return ok;
}

void pe_cache_forget(const char *dir, const char *pcscd)
{
    char path[PE_CACHE_DIR_MAX + 24];

    if (decision_path(dir, pcscd, false, path, sizeof path))
        unlink(path);
    if (decision_path(dir, pcscd, true, path, sizeof path))
        unlink(path);
}

bool pe_cache_same_card(const struct pe_cache_entry *a, const struct pe_cache_entry *b)
{
    return strcmp(a->pcscd, b->pcscd) == 0 && strcmp(a->reader, b->reader) == 0 &&
           a->event_count == b->event_count && a->event_count != 0 && a->atr_len == b->atr_len &&
           memcmp(a->atr, b->atr, a->atr_len) == 0;
}

bool pe_cache_trusted(const struct pe_cache_entry *e, const char *pcscd,
                      const struct pcsc_reader *r, time_t now, bool need_expiry)
{
    if (!e->confirmed || strcmp(e->pcscd, pcscd) != 0 || e->tries < 1 || r->event_count == 0 ||
        e->event_count != r->event_count || strcmp(e->reader, r->name) != 0 ||
        e->atr_len != r->atr_len || memcmp(e->atr, r->atr, r->atr_len) != 0)
        return false;
    return !need_expiry || (e->not_after > 0 && (int64_t)now < e->not_after);
}
