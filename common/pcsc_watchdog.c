/* pcsc_watchdog: a hard deadline for calls into libpcsclite (see pcsc_watchdog.h). */
#include "pcsc_watchdog.h"

#include "clock.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define WD_STACK_BYTES (64 * 1024)

struct pcsc_wd {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t deadline;       /* 0: none (until moved or fired now) */
    uint64_t fired_deadline; /* the deadline that fired; 0 when fired on demand */
    bool stop, fired;
    /* what the thread sleeps until: 0 awake, UINT64_MAX without a deadline. A deadline moved
     * to a later time needs no wake-up (the thread looks again when its wait ends), so the
     * per-call moves around each APDU (pcsc.c) wake it only when a call must end sooner than
     * it would wake anyway: two futex wake-ups and two thread switches per APDU saved. */
    uint64_t sleeps_until;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    dev_t dev; /* the socket file, to recognise pcscd's name reached through a symlink */
    ino_t ino;
    int next_fd; /* lowest free descriptor at start: where pcsc-lite's socket() lands */
    int own;     /* the context's socket once learned, else -1 */
};

/* getpeername() of a client socket names the path the server bound, i.e. pcscd's. */
static bool is_pcscd_socket(const pcsc_wd *w, int fd)
{
    struct sockaddr_un sa;
    socklen_t len = sizeof sa;
    struct stat st;
    size_t n;

    memset(&sa, 0, sizeof sa);
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&sa, &len) != 0 || sa.sun_family != AF_UNIX ||
        len <= offsetof(struct sockaddr_un, sun_path) || !sa.sun_path[0])
        return false; /* not a socket, not connected, unnamed or abstract */
    n = strnlen(sa.sun_path, len - offsetof(struct sockaddr_un, sun_path));
    if (n == strlen(w->path) && memcmp(sa.sun_path, w->path, n) == 0)
        return true;
    if (n >= sizeof sa.sun_path)
        return false;
    sa.sun_path[n] = '\0';
    return stat(sa.sun_path, &st) == 0 && st.st_dev == w->dev && st.st_ino == w->ino;
}

/* Before pcsc_wd_learn(): the socket pcsc-lite is connecting on. Descriptors are handed out
 * lowest first, so it is next_fd, unless another thread of the host took that number in the
 * meantime; then every pcscd socket above next_fd, which may include a connection of the host's
 * own to the same unanswering pcscd (two rare events at once; the bound matters more). */
static void shut_new(pcsc_wd *w)
{
    if (is_pcscd_socket(w, w->next_fd)) {
        shutdown(w->next_fd, SHUT_RDWR);
        return;
    }
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char *end;
        long fd;
        errno = 0;
        fd = strtol(e->d_name, &end, 10);
        if (errno || end == e->d_name || *end || fd <= w->next_fd || fd > INT_MAX)
            continue;
        if (fd != dirfd(d) && is_pcscd_socket(w, (int)fd))
            shutdown((int)fd, SHUT_RDWR);
    }
    closedir(d);
}

/* Called with mu held, once the deadline has passed. */
static void fire(pcsc_wd *w)
{
    w->fired = true;
    if (w->own < 0)
        shut_new(w);
    else if (is_pcscd_socket(w, w->own)) /* still pcscd's: never a reused number */
        shutdown(w->own, SHUT_RDWR);
}

static void *wd_main(void *arg)
{
    pcsc_wd *w = arg;

    pthread_mutex_lock(&w->mu);
    while (!w->stop && !w->fired) {
        if (!w->deadline) { /* none now: wait until it is moved, fired on demand or stopped */
            w->sleeps_until = UINT64_MAX;
            pthread_cond_wait(&w->cv, &w->mu);
            w->sleeps_until = 0;
            continue;
        }
        if (esc_mono_ms() >= w->deadline) {
            w->fired_deadline = w->deadline;
            fire(w);
            break;
        }
        struct timespec at = {.tv_sec = (time_t)(w->deadline / 1000u),
                              .tv_nsec = (long)(w->deadline % 1000u) * 1000000L};
        w->sleeps_until = w->deadline;
        pthread_cond_timedwait(&w->cv, &w->mu, &at);
        w->sleeps_until = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* The lowest descriptor number not in use now. */
static int lowest_free_fd(void)
{
    int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);

    if (fd < 0)
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        close(fd);
    return fd;
}

esc_err pcsc_wd_start(pcsc_wd **out, const char *sock_path, uint64_t deadline_ms)
{
    pthread_condattr_t ca;
    pthread_attr_t ta;
    sigset_t all, old;
    struct stat st;
    pcsc_wd *w;
    int r;

    *out = NULL;
    if (!sock_path || strlen(sock_path) >= sizeof w->path)
        return ESC_ERR_ARG;
    if (stat(sock_path, &st) != 0)
        return ESC_ERR_NO_PCSCD; /* gone since the caller looked */
    w = calloc(1, sizeof *w);
    if (!w)
        return ESC_ERR_NOMEM;
    memcpy(w->path, sock_path, strlen(sock_path) + 1);
    w->dev = st.st_dev;
    w->ino = st.st_ino;
    w->deadline = deadline_ms;
    w->own = -1;
    w->next_fd = lowest_free_fd();

    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_attr_init(&ta);
    pthread_attr_setstacksize(&ta, WD_STACK_BYTES);
    /* the thread inherits this mask: every signal stays with the host's own threads */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r = pthread_create(&w->thread, &ta, wd_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&ta);
    if (r != 0) {
        log_warn("pcsc: cannot start the deadline thread: %s", strerror(r));
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return ESC_ERR_IO;
    }
    *out = w;
    return ESC_OK;
}

void pcsc_wd_learn(pcsc_wd *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    if (!w->fired && is_pcscd_socket(w, w->next_fd))
        w->own = w->next_fd;
    pthread_mutex_unlock(&w->mu);
}

void pcsc_wd_set_deadline(pcsc_wd *w, uint64_t deadline_ms)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->deadline = deadline_ms;
    /* awake (it reads the deadline before it sleeps again) or sleeping until no later than
     * the new deadline: it will see it in time without a wake-up */
    if (w->sleeps_until && deadline_ms && deadline_ms < w->sleeps_until)
        pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void pcsc_wd_fire_now(pcsc_wd *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    if (!w->fired) {
        w->fired_deadline = 0;
        fire(w);
    }
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

bool pcsc_wd_fired_at(pcsc_wd *w, uint64_t *deadline_ms)
{
    bool f;
    if (!w)
        return false;
    pthread_mutex_lock(&w->mu);
    f = w->fired;
    if (deadline_ms)
        *deadline_ms = w->fired_deadline;
    pthread_mutex_unlock(&w->mu);
    return f;
}

bool pcsc_wd_fired(pcsc_wd *w)
{
    bool f;
    if (!w)
        return false;
    pthread_mutex_lock(&w->mu);
    f = w->fired;
    pthread_mutex_unlock(&w->mu);
    return f;
}

void pcsc_wd_stop(pcsc_wd *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
