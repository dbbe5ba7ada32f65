/* profile_cache: the phone-home profile per CUID, one small versioned file each.
 *
 * Format (text, one "key=value" per line, values printable without newlines):
 *   pam_esc-profile 1
 *   cuid=...  source_url=...  issuer=...  operation=...  ui=...  enrolled_browser_url=...
 *   enrolled_url=...  token_type=...  ca_chain_ui=...  fetched_at=<seconds>
 * A file that does not parse in full is ignored (and rewritten by the next fetch). */
#include "phone_home.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC    "pam_esc-profile"
#define FILE_MAX 16384

struct field {
    const char *key;
    size_t off, cap;
};

#define F(k)                                                                                       \
    {                                                                                              \
#k, offsetof(struct ph_profile, k), sizeof(((struct ph_profile *)0)->k)                    \
    }

static const struct field fields[] = {
    F(cuid),         F(source_url), F(issuer),      F(operation), F(ui), F(enrolled_browser_url),
    F(enrolled_url), F(token_type), F(ca_chain_ui),
};

static int parse(char *text, struct ph_profile *p);

/* here, not in phone_home.c: esc-card picks the URL of a cached profile without libcurl */
const char *ph_pick_url(const char *cli_url, const char *card_url, const char *conf_url)
{
    if (cli_url && *cli_url)
        return cli_url;
    if (card_url && *card_url)
        return card_url;
    if (conf_url && *conf_url)
        return conf_url;
    return NULL;
}

bool ph_cuid_ok(const char *cuid)
{
    size_t n = cuid ? strlen(cuid) : 0;
    if (n == 0 || n > PH_CUID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((cuid[i] >= '0' && cuid[i] <= '9') || (cuid[i] >= 'A' && cuid[i] <= 'F') ||
              (cuid[i] >= 'a' && cuid[i] <= 'f')))
            return false;
    return true;
}

int ph_cache_default_dir(char *out, size_t cap)
{
    const char *e = getenv("ESC_CACHE_DIR");
    int n;
    if (e && *e)
        n = snprintf(out, cap, "%s", e);
    else if ((e = getenv("XDG_CACHE_HOME")) && *e == '/')
        n = snprintf(out, cap, "%s/esc", e);
    else if ((e = getenv("HOME")) && *e == '/')
        n = snprintf(out, cap, "%s/.cache/esc", e);
    else
        return -1;
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

int ph_cache_dir(const char *configured, char *out, size_t cap)
{
    if (configured && configured[0]) {
        if ((size_t)snprintf(out, cap, "%s", configured) < cap)
            return 0;
    } else if (ph_cache_default_dir(out, cap) == 0) {
        return 0;
    }
    if (cap)
        out[0] = '\0';
    return -1;
}

static int path_for(char *out, size_t cap, const char *dir, const char *cuid)
{
    int n;
    if (!dir || !ph_cuid_ok(cuid))
        return -1;
    n = snprintf(out, cap, "%s/%s.profile", dir, cuid);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

int ph_cache_parse(const char *data, size_t len, struct ph_profile *p)
{
    char *text;
    int rc;
    if (!data || len == 0 || len > FILE_MAX || memchr(data, '\0', len))
        return -1;
    text = malloc(len + 1);
    if (!text)
        return -1;
    memcpy(text, data, len);
    text[len] = '\0';
    rc = parse(text, p);
    free(text);
    if (rc < 0)
        memset(p, 0, sizeof *p);
    return rc;
}

static int parse(char *text, struct ph_profile *p)
{
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    bool have_time = false;
    char magic[64];
    int n = snprintf(magic, sizeof magic, "%s %d", MAGIC, PH_CACHE_VER);
    if (!line || n < 0 || strcmp(line, magic) != 0)
        return -1;
    memset(p, 0, sizeof *p);
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *eq = strchr(line, '=');
        bool known = false;
        if (!eq)
            return -1;
        *eq = '\0';
        const char *val = eq + 1;
        if (strcmp(line, "fetched_at") == 0) {
            char *end;
            errno = 0;
            long long t = strtoll(val, &end, 10);
            if (errno || *end || end == val || t < 0)
                return -1;
            p->fetched_at = t;
            have_time = true;
            continue;
        }
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            if (strcmp(line, fields[i].key) != 0)
                continue;
            size_t vl = strlen(val);
            if (vl >= fields[i].cap)
                return -1;
            for (size_t k = 0; k < vl; k++)
                if ((unsigned char)val[k] < 0x20 || val[k] == 0x7f)
                    return -1;
            memcpy((char *)p + fields[i].off, val, vl + 1);
            known = true;
        }
        if (!known)
            return -1;
    }
    return have_time && p->cuid[0] ? 0 : -1;
}

int ph_cache_load(const char *dir, const char *cuid, struct ph_profile *p)
{
    char path[4096], *buf = NULL;
    struct stat st;
    int fd = -1, rc = 1;
    if (path_for(path, sizeof path, dir, cuid) < 0)
        return 1;
    /* O_NONBLOCK: a FIFO planted in the cache must not block the open */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    /* a profile another user could have written is not ours to trust */
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        st.st_size > FILE_MAX || st.st_uid != geteuid() || (st.st_mode & 022))
        goto out;
    buf = malloc((size_t)st.st_size);
    if (!buf)
        goto out;
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r <= 0)
            goto out;
        got += (size_t)r;
    }
    if (ph_cache_parse(buf, got, p) < 0 || strcasecmp(p->cuid, cuid) != 0) {
        memset(p, 0, sizeof *p);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

static bool value_ok(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return false;
    return true;
}

/* mkdir -p, each missing component with mode 0700: the default ~/.cache/esc may be the first
 * thing under a ~/.cache that does not exist yet. */
static int make_dir(const char *dir)
{
    char d[4096];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof d) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(d, dir, n + 1);
    for (char *s = strchr(d + 1, '/');; s = strchr(s + 1, '/')) {
        if (s)
            *s = '\0';
        if (mkdir(d, 0700) < 0 && errno != EEXIST)
            return -1;
        if (!s)
            return 0;
        *s = '/';
    }
}

/* The cache directory itself (not a symlink), ours and writable by no one else: the profile
 * names the TPS that gets the user's password. -1 with errno set otherwise. */
static int dir_private(const char *dir)
{
    struct stat st;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int rc = fstat(dfd, &st);
    close(dfd);
    if (rc == 0 && (st.st_uid != geteuid() || (st.st_mode & 022))) {
        errno = EPERM;
        rc = -1;
    }
    return rc;
}

/* A cached profile answers unless it came from another phone-home URL than the one we would
 * use now (the card was re-issued elsewhere, or --url names another server). */
int ph_cache_lookup(const char *dir, const char *url, const char *cuid, struct ph_profile *p)
{
    if (ph_cache_load(dir, cuid, p) != 0)
        return 1;
    return !url || !*url || strcmp(p->source_url, url) == 0 ? 0 : 1;
}

int ph_cache_store(const char *dir, const struct ph_profile *p, char *err, size_t errlen)
{
    char path[4096], tmp[4096 + 16];
    char buf[FILE_MAX];
    size_t len = 0;
    int fd = -1, rc = -1, n;
    const char *why = "The phone-home cache could not be written";

    if (path_for(path, sizeof path, dir, p->cuid) < 0) {
        why = "The phone-home cache path is not usable";
        errno = 0;
        goto out;
    }
    if (make_dir(dir) < 0 || dir_private(dir) < 0)
        goto out;
    errno = 0; /* from here a failure without errno is a value that cannot be stored */
    n = snprintf(buf, sizeof buf, "%s %d\n", MAGIC, PH_CACHE_VER);
    len = (size_t)n;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = (const char *)p + fields[i].off;
        if (!value_ok(v))
            goto out;
        n = snprintf(buf + len, sizeof buf - len, "%s=%s\n", fields[i].key, v);
        if (n < 0 || (size_t)n >= sizeof buf - len)
            goto out;
        len += (size_t)n;
    }
    n = snprintf(buf + len, sizeof buf - len, "fetched_at=%lld\n", p->fetched_at);
    if (n < 0 || (size_t)n >= sizeof buf - len)
        goto out;
    len += (size_t)n;

    n = snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        goto out;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        goto out;
    if (fchmod(fd, 0600) < 0)
        goto unlink;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w <= 0)
            goto unlink;
        off += (size_t)w;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        goto unlink;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto unlink;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
    goto out;
unlink:
    unlink(tmp);
out:
    if (fd >= 0)
        close(fd);
    if (rc && err)
        snprintf(err, errlen, "%s (%s): %s.", why, dir ? dir : "no directory",
                 errno ? strerror(errno) : "invalid value");
    return rc;
}
