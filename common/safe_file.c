/* safe_file: see safe_file.h. */
#include "safe_file.h"

#include "esc_err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What is wrong with one node for a root caller, or NULL. A symlink's own mode means
 * nothing (only its owner can retarget it); a sticky directory of root's protects what root
 * owns in it from being renamed or removed by anybody else. */
static const char *untrusted(const struct stat *st)
{
    if (st->st_uid != 0)
        return "is not owned by root";
    if (S_ISLNK(st->st_mode) || (st->st_mode & (S_IWGRP | S_IWOTH)) == 0)
        return NULL;
    if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
        return NULL;
    return "is writable by group or others";
}

/* Check `path` (absolute, modified in place) and every directory above it up to /, with
 * lstat (the path as named) or stat (the resolved path). */
static esc_err walk(char *path, bool follow, const char *file, char *err, size_t errlen)
{
    for (;;) {
        struct stat st;
        const char *why;
        char *slash;

        if ((follow ? stat(path, &st) : lstat(path, &st)) != 0) {
            esc_seterr(err, errlen, "%s: cannot check %s: %s", file, path, strerror(errno));
            return ESC_ERR_IO;
        }
        if ((why = untrusted(&st)) != NULL) {
            esc_seterr(err, errlen, "%s: refused: %s %s (only root may be able to change it)", file,
                       path, why);
            return ESC_ERR_CONF;
        }
        if (strcmp(path, "/") == 0)
            return ESC_OK;
        slash = strrchr(path, '/');
        if (!slash)
            return ESC_OK;
        if (slash == path)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
}

/* The path as named, made absolute (a relative one is taken from the working directory). */
static bool absolute(const char *path, char *out, size_t cap)
{
    char cwd[PATH_MAX];
    int n;

    if (path[0] == '/')
        n = snprintf(out, cap, "%s", path);
    else if (getcwd(cwd, sizeof cwd))
        n = snprintf(out, cap, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
    else
        return false;
    return n > 0 && (size_t)n < cap;
}

static esc_err check_paths(const char *path, const char *resolved, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    esc_err e;

    if (!absolute(path, buf, sizeof buf)) {
        esc_seterr(err, errlen, "%s: path too long", path);
        return ESC_ERR_IO;
    }
    if ((e = walk(buf, false, path, err, errlen)) != ESC_OK)
        return e;
    snprintf(buf, sizeof buf, "%s", resolved);
    return walk(buf, true, path, err, errlen);
}

esc_err safe_file_open(const char *path, bool strict, int *fd, char *err, size_t errlen)
{
    char resolved[PATH_MAX];
    const char *open_path = path;
    struct stat st;
    const char *why;
    esc_err e = ESC_ERR_CONF;
    int flags, f;

    *fd = -1;
    if (strict) {
        if (!realpath(path, resolved)) {
            esc_seterr(err, errlen, "%s: %s", path, strerror(errno));
            return errno == ENOENT ? ESC_ERR_CONF_MISSING : ESC_ERR_IO;
        }
        open_path = resolved;
    }
    /* O_NONBLOCK: a FIFO put in its place must not hang us in open() */
    f = open(open_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | (strict ? O_NOFOLLOW : 0));
    if (f < 0) {
        esc_seterr(err, errlen, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? ESC_ERR_CONF_MISSING : ESC_ERR_IO;
    }
    if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        esc_seterr(err, errlen, "%s: not a regular file", path);
        e = ESC_ERR_IO;
        goto fail;
    }
    if (strict && (why = untrusted(&st)) != NULL) {
        esc_seterr(err, errlen, "%s: refused: the file %s (only root may be able to change it)",
                   path, why);
        goto fail;
    }
    if (strict && (e = check_paths(path, resolved, err, errlen)) != ESC_OK)
        goto fail;
    flags = fcntl(f, F_GETFL);
    if (flags < 0 || fcntl(f, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        esc_seterr(err, errlen, "%s: %s", path, strerror(errno));
        e = ESC_ERR_IO;
        goto fail;
    }
    *fd = f;
    return ESC_OK;
fail:
    close(f);
    return e;
}
