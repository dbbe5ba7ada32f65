/* session_watch: the reader watcher thread (see session_watch.h). */
#include "session_watch.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <winscard.h>

#define QUEUE_MAX   64
#define PNP_READER  "\\\\?PnP?\\Notification"
#define RETRY_COUNT 20  /* connection attempts after pcscd's socket (re)appears ... */
#define RETRY_MS    100 /* ... this far apart; then wait for the socket to change again */

struct known {
    char name[PCSC_READER_NAME_MAX];
    DWORD state; /* last dwEventState, without SCARD_STATE_CHANGED */
    bool card;
};

struct sw_watcher {
    pthread_t thread;
    pthread_mutex_t lock;
    int efd;       /* wakes the main loop */
    int stop_efd;  /* wakes the thread out of its wait for pcscd's socket */
    bool stopping; /* under lock */
    bool have_ctx; /* under lock: ctx may be cancelled */
    SCARDCONTEXT ctx;
    struct sw_event q[QUEUE_MAX];
    size_t qn;
    struct known rd[PCSC_MAX_READERS];
    size_t nrd;
};

static void post(sw_watcher *w, enum sw_kind k, const char *reader, const char *detail)
{
    uint64_t one = 1;
    pthread_mutex_lock(&w->lock);
    if (w->qn < QUEUE_MAX) {
        struct sw_event *e = &w->q[w->qn++];
        memset(e, 0, sizeof *e);
        e->kind = k;
        snprintf(e->reader, sizeof e->reader, "%s", reader ? reader : "");
        snprintf(e->detail, sizeof e->detail, "%s", detail ? detail : "");
    } else {
        log_warn("reader watcher: event queue full, an event was dropped");
    }
    pthread_mutex_unlock(&w->lock);
    if (write(w->efd, &one, sizeof one) < 0)
        log_debug("reader watcher: eventfd: %s", strerror(errno));
}

static bool stopping(sw_watcher *w)
{
    pthread_mutex_lock(&w->lock);
    bool s = w->stopping;
    pthread_mutex_unlock(&w->lock);
    return s;
}

static const char *socket_path(void)
{
    const char *p = getenv("PCSCLITE_CSOCK_NAME");
    return p && *p ? p : "/run/pcscd/pcscd.comm";
}

/* Does something accept connections on pcscd's socket? */
static bool socket_answers(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;
    bool ok;
    if (strlen(path) >= sizeof sa.sun_path)
        return false;
    memcpy(sa.sun_path, path, strlen(path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* Wait until pcscd's socket changes (created, moved in, attributes changed), for at most
 * timeout_ms (-1: no limit). false when stopping. */
static bool wait_socket_change(sw_watcher *w, int ino, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = w->stop_efd, .events = POLLIN}, {.fd = ino, .events = POLLIN}};
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int n = poll(p, ino >= 0 ? 2 : 1, timeout_ms);
    if (n < 0 && errno != EINTR)
        return !stopping(w);
    if (p[0].revents)
        return false;
    if (ino >= 0 && (p[1].revents & POLLIN))
        while (read(ino, buf, sizeof buf) > 0)
            ; /* any change in the directory: try again */
    return !stopping(w);
}

/* Watch pcscd's socket directory, or its parent while the directory does not exist yet (it
 * is made when pcscd starts): adding a watch again is harmless, so this is done before every
 * wait. */
static void watch_dir(int ino, const char *dir)
{
    char parent[PATH_MAX];
    const uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_CLOSE_WRITE;
    if (inotify_add_watch(ino, dir, mask) >= 0)
        return;
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash)
        slash[slash == parent ? 1 : 0] = '\0';
    (void)inotify_add_watch(ino, parent, mask);
}

/* Connect to pcscd; wait for it (without a timer while nothing changes) when it is not there.
 * false when stopping. */
static bool connect_pcscd(sw_watcher *w, bool *said_lost)
{
    const char *path = socket_path();
    char dir[PATH_MAX];
    int ino = -1, tries = RETRY_COUNT;
    bool ok = false, ino_tried = false;

    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    for (;;) {
        SCARDCONTEXT ctx;
        LONG r = SCARD_E_NO_SERVICE;
        if (stopping(w))
            break;
        if (socket_answers(path))
            r = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
        if (r == SCARD_S_SUCCESS) {
            pthread_mutex_lock(&w->lock);
            w->ctx = ctx;
            w->have_ctx = true;
            pthread_mutex_unlock(&w->lock);
            ok = true;
            break;
        }
        if (!*said_lost) {
            char d[160];
            snprintf(d, sizeof d, "pcscd is not running (%s); waiting for it at %s",
                     pcsc_stringify_error(r), path);
            post(w, SW_PCSCD_LOST, NULL, d);
            *said_lost = true;
        }
        if (!ino_tried) {
            ino_tried = true;
            ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
            if (ino < 0)
                log_warn("inotify: %s; looking for pcscd every second", strerror(errno));
        }
        if (ino >= 0)
            watch_dir(ino, dir);
        /* a few quick retries after a change (the socket may exist a moment before pcscd
         * listens), then sleep until the directory changes again */
        if (tries > 0) {
            tries--;
            if (!wait_socket_change(w, ino, RETRY_MS))
                break;
        } else {
            if (!wait_socket_change(w, ino, ino >= 0 ? -1 : 1000))
                break;
            tries = RETRY_COUNT;
        }
    }
    if (ino >= 0)
        close(ino);
    return ok;
}

static void drop_ctx(sw_watcher *w)
{
    pthread_mutex_lock(&w->lock);
    w->have_ctx = false;
    pthread_mutex_unlock(&w->lock);
    SCardReleaseContext(w->ctx);
}

static struct known *find(sw_watcher *w, const char *name)
{
    for (size_t i = 0; i < w->nrd; i++)
        if (strcmp(w->rd[i].name, name) == 0)
            return &w->rd[i];
    return NULL;
}

/* Read the reader list and reconcile it with what is known. PC/SC error or SCARD_S_SUCCESS. */
static LONG list_readers(sw_watcher *w)
{
    struct known now[PCSC_MAX_READERS];
    size_t n = 0;
    char *buf = NULL;
    DWORD len = SCARD_AUTOALLOCATE;
    LONG r = SCardListReaders(w->ctx, NULL, (LPSTR)&buf, &len);

    if (r == (LONG)SCARD_E_NO_READERS_AVAILABLE)
        len = 0;
    else if (r != SCARD_S_SUCCESS)
        return r;
    for (size_t off = 0; buf && off < len && buf[off] && n < PCSC_MAX_READERS;) {
        size_t l = strnlen(buf + off, len - off);
        if (l < PCSC_READER_NAME_MAX && off + l < len) {
            struct known *k = find(w, buf + off);
            if (k) {
                now[n] = *k;
            } else {
                memset(&now[n], 0, sizeof now[n]);
                memcpy(now[n].name, buf + off, l);
                now[n].state = SCARD_STATE_UNAWARE;
                post(w, SW_READER_ADDED, now[n].name, NULL);
            }
            n++;
        }
        off += l + 1;
    }
    if (buf)
        SCardFreeMemory(w->ctx, buf);
    for (size_t i = 0; i < w->nrd; i++) {
        bool still = false;
        for (size_t j = 0; j < n && !still; j++)
            still = strcmp(now[j].name, w->rd[i].name) == 0;
        if (still)
            continue;
        if (w->rd[i].card)
            post(w, SW_REMOVE, w->rd[i].name, "the reader went away");
        post(w, SW_READER_REMOVED, w->rd[i].name, NULL);
    }
    memcpy(w->rd, now, n * sizeof now[0]);
    w->nrd = n;
    return SCARD_S_SUCCESS;
}

static void note_state(sw_watcher *w, struct known *k, DWORD ev)
{
    bool card = (ev & SCARD_STATE_PRESENT) != 0 && (ev & SCARD_STATE_MUTE) == 0;
    /* pcsc-lite counts insertions and removals in the high 16 bits: a card swapped between two
     * waits shows as a changed count with a card present before and after */
    bool swapped = card && k->card && (k->state >> 16) != (ev >> 16) &&
                   (k->state & SCARD_STATE_UNAWARE) == 0 && k->state != 0;
    if (k->card && (!card || swapped))
        post(w, SW_REMOVE, k->name, NULL);
    if (card && (!k->card || swapped))
        post(w, SW_INSERT, k->name, NULL);
    k->card = card;
    k->state = ev & ~(DWORD)SCARD_STATE_CHANGED;
}

/* Watch until pcscd fails (returns its error) or we stop (SCARD_E_CANCELLED). */
static LONG watch(sw_watcher *w)
{
    SCARD_READERSTATE st[PCSC_MAX_READERS + 1];
    DWORD pnp = SCARD_STATE_UNAWARE;
    bool relist = true;

    for (;;) {
        LONG r;
        if (relist && (r = list_readers(w)) != SCARD_S_SUCCESS)
            return r;
        relist = false;
        memset(st, 0, sizeof st);
        for (size_t i = 0; i < w->nrd; i++) {
            st[i].szReader = w->rd[i].name;
            st[i].dwCurrentState = w->rd[i].state;
        }
        st[w->nrd].szReader = PNP_READER;
        st[w->nrd].dwCurrentState = pnp;
        r = SCardGetStatusChange(w->ctx, INFINITE, st, (DWORD)w->nrd + 1);
        if (stopping(w))
            return SCARD_E_CANCELLED;
        if (r == (LONG)SCARD_E_CANCELLED || r == (LONG)SCARD_E_UNKNOWN_READER ||
            r == (LONG)SCARD_E_READER_UNAVAILABLE) {
            relist = true; /* sw_rescan, or a reader left while we were not waiting */
            continue;
        }
        if (r == (LONG)SCARD_E_TIMEOUT)
            continue;
        if (r != SCARD_S_SUCCESS)
            return r;
        for (size_t i = 0; i < w->nrd; i++) {
            DWORD ev = st[i].dwEventState;
            if (ev & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE | SCARD_STATE_IGNORE))
                relist = true;
            else if (ev & SCARD_STATE_CHANGED)
                note_state(w, &w->rd[i], ev);
        }
        if (st[w->nrd].dwEventState & SCARD_STATE_CHANGED) {
            relist = true;
            pnp = st[w->nrd].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
        }
    }
}

static void *run(void *arg)
{
    sw_watcher *w = arg;
    bool said_lost = false, connected_once = false;

    while (connect_pcscd(w, &said_lost)) {
        if (said_lost || connected_once)
            post(w, SW_PCSCD_BACK, NULL, connected_once ? "connected to pcscd again" : NULL);
        said_lost = false;
        connected_once = true;
        LONG r = watch(w);
        drop_ctx(w);
        if (r == (LONG)SCARD_E_CANCELLED && stopping(w))
            break;
        /* pcscd went away: forget the readers; after reconnecting every card counts as
         * inserted again */
        char d[160];
        snprintf(d, sizeof d, "lost the connection to pcscd (%s)", pcsc_stringify_error(r));
        post(w, SW_PCSCD_LOST, NULL, d);
        said_lost = true;
        w->nrd = 0;
    }
    return NULL;
}

int sw_start(sw_watcher **out)
{
    sw_watcher *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    pthread_mutex_init(&w->lock, NULL);
    w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    w->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->efd < 0 || w->stop_efd < 0 || pthread_create(&w->thread, NULL, run, w) != 0) {
        int e = errno;
        if (w->efd >= 0)
            close(w->efd);
        if (w->stop_efd >= 0)
            close(w->stop_efd);
        pthread_mutex_destroy(&w->lock);
        free(w);
        errno = e;
        return -1;
    }
    *out = w;
    return 0;
}

int sw_fd(const sw_watcher *w)
{
    return w->efd;
}

size_t sw_take(sw_watcher *w, struct sw_event *out, size_t max)
{
    uint64_t v;
    size_t n;
    if (read(w->efd, &v, sizeof v) < 0 && errno != EAGAIN)
        log_debug("reader watcher: eventfd: %s", strerror(errno));
    pthread_mutex_lock(&w->lock);
    n = w->qn < max ? w->qn : max;
    memcpy(out, w->q, n * sizeof *out);
    memmove(w->q, w->q + n, (w->qn - n) * sizeof *out);
    w->qn -= n;
    pthread_mutex_unlock(&w->lock);
    if (n < max)
        return n;
    /* more left: keep the main loop awake for them */
    if (w->qn) {
        v = 1;
        (void)!write(w->efd, &v, sizeof v);
    }
    return n;
}

void sw_rescan(sw_watcher *w)
{
    pthread_mutex_lock(&w->lock);
    if (w->have_ctx)
        SCardCancel(w->ctx);
    pthread_mutex_unlock(&w->lock);
}

void sw_stop(sw_watcher *w)
{
    uint64_t one = 1;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    if (w->have_ctx)
        SCardCancel(w->ctx);
    pthread_mutex_unlock(&w->lock);
    (void)!write(w->stop_efd, &one, sizeof one);
    pthread_join(w->thread, NULL);
    close(w->efd);
    close(w->stop_efd);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
