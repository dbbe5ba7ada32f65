/* escctl_local: the thin escctl's hand-over to escctl-local. See escctl_local.h. */
#include "escctl_local.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ESC_LIBEXECDIR
#define ESC_LIBEXECDIR "/usr/local/libexec/pam_esc"
#endif

char **escctl_local_argv;

int escctl_local_path(char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    char *slash;

    if (n > 0) {
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            if (snprintf(out, cap, "%s/%s", self, ESCCTL_LOCAL_NAME) < (int)cap &&
                access(out, X_OK) == 0)
                return 0;
        }
    }
    return snprintf(out, cap, "%s/%s", ESC_LIBEXECDIR, ESCCTL_LOCAL_NAME) < (int)cap ? 0 : -1;
}

int escctl_local_exec(bool agent_tried)
{
    char path[PATH_MAX];

    if (escctl_local_path(path, sizeof path) < 0) {
        fprintf(stderr, "escctl: the path of %s is too long\n", ESCCTL_LOCAL_NAME);
        return 1;
    }
    if (agent_tried && setenv("ESC_NO_AGENT", "1", 1) < 0) {
        fprintf(stderr, "escctl: %s\n", strerror(errno));
        return 1;
    }
    fflush(NULL);
    execv(path, escctl_local_argv);
    fprintf(stderr, "escctl: cannot run %s: %s\n", path, strerror(errno));
    return 1;
}

size_t escctl_local_probe(const struct probe_opts *o, struct probe_facts *f, size_t max)
{
    (void)o, (void)f, (void)max;
    exit(escctl_local_exec(true));
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len) {
        ssize_t w = write(fd, s, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Put lines (NULL: none) back on fd: a pipe holding them, at fd's number. The secrets are at
 * most TPS_SECRET_MAX bytes, far below a pipe's buffer, so the writes never block. */
static int refeed(int fd, const char *line1, const char *line2)
{
    const char *lines[] = {line1, line2};
    int p[2], rc = 0;

    if (pipe(p) < 0)
        return -1;
    for (size_t i = 0; i < 2 && rc == 0; i++)
        if (lines[i] &&
            (write_all(p[1], lines[i], strlen(lines[i])) < 0 || write_all(p[1], "\n", 1) < 0))
            rc = -1;
    close(p[1]);
    if (rc == 0 && dup2(p[0], fd) < 0)
        rc = -1;
    close(p[0]);
    return rc;
}

int escctl_local_op(const struct escctl_op_here *h)
{
    int pw_fd = h->o->password_fd, pin_fd = h->o->pin_fd;
    int rc = 0;

    /* escctl-local reads the password line first, then the PIN line, as the code here did */
    if (h->pw && h->pin && pw_fd == pin_fd) {
        rc = refeed(pw_fd, h->pw, h->pin);
    } else {
        if (h->pw)
            rc = refeed(pw_fd, h->pw, NULL);
        if (rc == 0 && h->pin)
            rc = refeed(pin_fd, h->pin, NULL);
    }
    if (rc < 0) {
        fprintf(stderr, "escctl: cannot pass the answers on to %s: %s\n", ESCCTL_LOCAL_NAME,
                strerror(errno));
        return 1;
    }
    /* exec replaces this process's memory, the answers read with it */
    return escctl_local_exec(true);
}
