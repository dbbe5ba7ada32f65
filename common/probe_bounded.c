/* probe_bounded: run the probe in a child process with a hard deadline (see probe.h). */
#include "probe.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        len -= (size_t)w;
    }
}

/* Read exactly len bytes before the deadline; 0 on success. */
static int read_until(int fd, void *buf, size_t len, long deadline)
{
    char *p = buf;
    while (len) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        long left = deadline - mono_ms();
        ssize_t r;
        int pr;
        if (left <= 0)
            return -1;
        pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return -1;
        r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

static size_t run_bounded(const struct probe_opts *opts, struct probe_facts *out, size_t max,
                          bool all)
{
    unsigned tmo = opts && opts->timeout_ms ? opts->timeout_ms : PROBE_DEFAULT_TIMEOUT_MS;
    long t0 = mono_ms(), deadline = t0 + (long)tmo + PROBE_GRACE_MS;
    size_t n = 0;
    int fds[2];
    pid_t pid;

    if (!out || max == 0)
        return 0;
    if (pipe2(fds, O_CLOEXEC) != 0)
        goto fallback;
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        goto fallback;
    }
    if (pid == 0) { /* child: probe, send the facts, leave without running atexit handlers */
        close(fds[0]);
        if (all) {
            n = probe_all(opts, out, max);
        } else {
            probe_card(opts, out);
            n = 1;
        }
        write_all(fds[1], &n, sizeof n);
        write_all(fds[1], out, n * sizeof *out);
        _exit(0);
    }
    close(fds[1]);
    if (read_until(fds[0], &n, sizeof n, deadline) != 0 || n == 0 || n > max ||
        read_until(fds[0], out, n * sizeof *out, deadline) != 0) {
        n = 0;
        kill(pid, SIGKILL);
    }
    close(fds[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (n > 0)
        return n;
    /* the child did not answer in time (or died) */
    memset(out, 0, sizeof *out);
    out->state = PROBE_ERROR;
    out->err = ESC_ERR_TIMEOUT;
    out->life_cycle = -1;
    out->pin_tries_left = -1;
    snprintf(out->reader, sizeof out->reader, "%s", opts && opts->reader ? opts->reader : "");
    out->elapsed_ms = (unsigned)(mono_ms() - t0);
    log_debug("probe: no answer within %u ms; child killed", tmo + PROBE_GRACE_MS);
    return 1;
fallback:
    log_warn("probe: cannot fork (%s); probing in-process", strerror(errno));
    if (all)
        return probe_all(opts, out, max);
    probe_card(opts, out);
    return 1;
}

void probe_card_bounded(const struct probe_opts *opts, struct probe_facts *out)
{
    (void)run_bounded(opts, out, 1, false);
}

size_t probe_all_bounded(const struct probe_opts *opts, struct probe_facts *out, size_t max)
{
    return run_bounded(opts, out, max, true);
}
