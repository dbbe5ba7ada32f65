/* card_lock: a per-card flock in /run/lock. See card_lock.h. */
#include "card_lock.h"

#include "log.h"
#include "pcscd_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Several pcscd (test rigs) may name their readers alike: the socket is part of the key. */
static void lock_path(const char *reader, char *out, size_t cap)
{
    const char *sock = pcscd_socket_path();
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv1a(h, sock, strlen(sock) + 1);
    h = fnv1a(h, reader, strlen(reader));
    snprintf(out, cap, "%s/pam_esc-%016llx.lock", CARD_LOCK_DIR, (unsigned long long)h);
}

/* Open the lock file of another account or make ours. A sticky directory refuses O_CREAT on
 * another account's file (fs.protected_regular), hence the two steps; read-only is enough
 * for flock. */
static int open_lock(const char *path)
{
    for (int round = 0; round < 3; round++) {
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd >= 0 || errno != ENOENT)
            return fd;
        fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

esc_err card_lock_take(const char *reader, int *fd)
{
    char path[160];

    *fd = -1;
    if (!reader || !*reader)
        return ESC_OK;
    lock_path(reader, path, sizeof path);
    int l = open_lock(path);
    if (l < 0) {
        log_warn("card lock %s cannot be used (%s); going on without it", path, strerror(errno));
        return ESC_OK;
    }
    if (flock(l, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        close(l);
        if (err == EWOULDBLOCK)
            return ESC_ERR_CARD_IN_USE;
        log_warn("card lock %s: %s; going on without it", path, strerror(err));
        return ESC_OK;
    }
    *fd = l;
    return ESC_OK;
}

void card_lock_release(int fd)
{
    if (fd >= 0)
        close(fd);
}
