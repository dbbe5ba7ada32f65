/* session_watch: the reader watcher (see session_watch.h). */
#include "session_watch.h"

#include "log.h"
#include "pcscd_wire.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define RETRY_COUNT 20  /* connection attempts after pcscd's socket (re)appears ... */
#define RETRY_MS    100 /* ... this far apart; then wait for the socket to change again */

/* pcscd's client protocol: common/pcscd_wire.h */
#define PROTO_MAJOR                  PCSCD_PROTO_MAJOR
#define PROTO_MINOR                  PCSCD_PROTO_MINOR
#define CMD_VERSION                  PCSCD_CMD_VERSION
#define CMD_WAIT_READER_STATE_CHANGE PCSCD_CMD_WAIT_READER_STATE_CHANGE
#define STATES_SIZE                  PCSCD_STATES_SIZE

enum phase {
    AWAY,    /* no connection: waiting for pcscd's socket */
    HELLO,   /* CMD_VERSION sent, its answer due */
    STATES,  /* CMD_WAIT_READER_STATE_CHANGE sent, the reader states due */
    WAITING, /* registered: the next change's message due (this is the idle state) */
};

struct known {
    char name[SW_READER_NAME_MAX];
    uint32_t counter;
    bool card;
};

struct sw_watcher {
    enum phase phase;
    int fd;  /* pcscd's socket */
    int ino; /* inotify on the socket's directory while AWAY */
    int tries;
    bool fresh; /* not tried yet */
    bool said_lost, connected_once, refused_said;
    size_t have, want; /* bytes read of the message due, its size */
    union {
        struct pcscd_version version;
        struct pcscd_wait wait;
        struct pcscd_reader_state states[PCSCD_READER_SLOTS];
    } in;
    struct known rd[PCSCD_READER_SLOTS];
    size_t nrd;
    /* events of this step */
    struct sw_event *out;
    size_t n, max;
};

static void post(sw_watcher *w, enum sw_kind k, const char *reader, const char *detail)
{
    if (w->n >= w->max) {
        log_warn("reader watcher: too many events at once, one was dropped");
        return;
    }
    struct sw_event *e = &w->out[w->n++];
    memset(e, 0, sizeof *e);
    e->kind = k;
    snprintf(e->reader, sizeof e->reader, "%s", reader ? reader : "");
    snprintf(e->detail, sizeof e->detail, "%s", detail ? detail : "");
}

static void socket_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s", pcscd_socket_path());
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
}

/* Watch pcscd's socket directory, or its parent while the directory does not exist yet (it
 * is made when pcscd starts): adding a watch again is harmless, so this is done every time. */
static void watch_dir(int ino)
{
    char dir[PATH_MAX], parent[PATH_MAX];
    const uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_CLOSE_WRITE;
    socket_dir(dir, sizeof dir);
    if (inotify_add_watch(ino, dir, mask) >= 0)
        return;
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash)
        slash[slash == parent ? 1 : 0] = '\0';
    (void)inotify_add_watch(ino, parent, mask);
}

static bool send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t k = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false; /* a few bytes into an empty socket buffer: never EAGAIN */
        p += k;
        len -= (size_t)k;
    }
    return true;
}

static bool ask(sw_watcher *w, uint32_t cmd, const void *body, uint32_t len, size_t want)
{
    struct pcscd_header h = {.size = len, .command = cmd};
    char msg[sizeof h + sizeof(struct pcscd_version)];
    memcpy(msg, &h, sizeof h);
    if (len)
        memcpy(msg + sizeof h, body, len);
    w->have = 0;
    w->want = want;
    return send_all(w->fd, msg, sizeof h + len);
}

static void go_away(sw_watcher *w, const char *why)
{
    if (w->phase != AWAY) {
        if (w->fd >= 0)
            close(w->fd);
        w->fd = -1;
        w->phase = AWAY;
        w->tries = RETRY_COUNT;
        /* forget the readers: after reconnecting every card counts as inserted again */
        w->nrd = 0;
    }
    if (!w->said_lost) {
        post(w, SW_PCSCD_LOST, NULL, why);
        w->said_lost = true;
    }
}

/* One connection attempt. */
static void try_connect(sw_watcher *w)
{
    const char *path = pcscd_socket_path();
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct pcscd_version v = {.major = PROTO_MAJOR, .minor = PROTO_MINOR};
    char why[220];
    int fd = -1;

    w->fresh = false;
    if (strlen(path) < sizeof sa.sun_path) {
        memcpy(sa.sun_path, path, strlen(path));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    } else {
        errno = ENAMETOOLONG;
    }
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        w->fd = fd;
        w->phase = HELLO;
        if (!ask(w, CMD_VERSION, &v, sizeof v, sizeof w->in.version))
            go_away(w, "pcscd closed the connection at once");
        return;
    }
    snprintf(why, sizeof why, "pcscd is not running (%s); waiting for it at %.100s",
             strerror(errno), path);
    if (fd >= 0)
        close(fd);
    go_away(w, why);
}

static struct known *find(sw_watcher *w, const char *name)
{
    for (size_t i = 0; i < w->nrd; i++)
        if (strcmp(w->rd[i].name, name) == 0)
            return &w->rd[i];
    return NULL;
}

/* pcscd's reader states in, events out (what libpcsclite's SCardGetStatusChange would say). */
static void reconcile(sw_watcher *w)
{
    struct known now[PCSCD_READER_SLOTS];
    size_t n = 0;

    for (size_t i = 0; i < PCSCD_READER_SLOTS; i++) {
        const struct pcscd_reader_state *s = &w->in.states[i];
        struct known *c = &now[n];
        bool card;
        memset(c, 0, sizeof *c);
        if (!pcscd_slot(s, c->name, sizeof c->name, &card))
            continue; /* an empty slot (or a name without its NUL: not a reader we can name) */
        n++;
        struct known *k = find(w, c->name);
        c->counter = s->event_counter;
        c->card = card;
        if (!k)
            post(w, SW_READER_ADDED, c->name, NULL);
        bool had = k && k->card;
        /* pcscd counts insertions and removals: a card swapped between two looks shows as a
         * changed count with a card present before and after */
        bool swapped = card && had && k->counter != s->event_counter;
        if (had && (!card || swapped))
            post(w, SW_REMOVE, c->name, NULL);
        if (card && (!had || swapped))
            post(w, SW_INSERT, c->name, NULL);
    }
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
}

/* A whole message arrived. */
static void on_message(sw_watcher *w)
{
    char why[200];
    switch (w->phase) {
    case HELLO:
        if (w->in.version.rv != 0 || w->in.version.major != PROTO_MAJOR) {
            snprintf(why, sizeof why,
                     "pcscd speaks protocol %d.%d and refused %d.%d: card events are not watched",
                     (int)w->in.version.major, (int)w->in.version.minor, PROTO_MAJOR, PROTO_MINOR);
            if (!w->refused_said)
                log_err("%s", why);
            w->refused_said = true;
            go_away(w, why);
            return;
        }
        if (w->said_lost || w->connected_once)
            post(w, SW_PCSCD_BACK, NULL, w->connected_once ? "connected to pcscd again" : NULL);
        w->said_lost = false;
        w->connected_once = true;
        break;
    case STATES:
        reconcile(w);
        w->phase = WAITING;
        w->have = 0;
        w->want = sizeof w->in.wait;
        return;
    case WAITING: /* something changed (or another client cancelled us): ask again */
    case AWAY:
        break;
    }
    w->phase = STATES;
    if (!ask(w, CMD_WAIT_READER_STATE_CHANGE, NULL, 0, STATES_SIZE))
        go_away(w, "lost the connection to pcscd");
}

static void read_pcscd(sw_watcher *w)
{
    for (;;) {
        ssize_t k = recv(w->fd, (char *)&w->in + w->have, w->want - w->have, MSG_DONTWAIT);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (k <= 0) {
            char why[160];
            snprintf(why, sizeof why, "lost the connection to pcscd (%s)",
                     k == 0 ? "it closed the connection" : strerror(errno));
            go_away(w, why);
            try_connect(w); /* pcscd restarted: it may be there again already */
            return;
        }
        w->have += (size_t)k;
        if (w->have == w->want) {
            on_message(w);
            if (w->phase == AWAY)
                return;
        }
    }
}

sw_watcher *sw_open(void)
{
    sw_watcher *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->fd = -1;
    w->ino = -1;
    w->phase = AWAY;
    w->fresh = true; /* the first sw_step connects at once */
    return w;
}

int sw_fd(const sw_watcher *w)
{
    return w->phase == AWAY ? w->ino : w->fd;
}

int sw_timeout_ms(const sw_watcher *w)
{
    if (w->phase != AWAY)
        return -1;
    if (w->fresh)
        return 0;
    return w->tries > 0 ? RETRY_MS : (w->ino >= 0 ? -1 : 1000);
}

size_t sw_step(sw_watcher *w, struct sw_event *out, size_t max)
{
    w->out = out;
    w->n = 0;
    w->max = max;
    if (w->phase != AWAY) {
        read_pcscd(w);
    } else {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool changed = false;
        if (w->ino >= 0)
            while (read(w->ino, buf, sizeof buf) > 0)
                changed = true; /* something in the directory changed: try again */
        if (changed)
            w->tries = RETRY_COUNT;
        else if (w->tries > 0)
            w->tries--;
        try_connect(w);
    }
    if (w->phase == AWAY && w->ino < 0) {
        w->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->ino < 0)
            log_warn("inotify: %s; looking for pcscd every second", strerror(errno));
    }
    if (w->phase == AWAY && w->ino >= 0)
        watch_dir(w->ino);
    if (w->phase != AWAY && w->ino >= 0) {
        close(w->ino);
        w->ino = -1;
    }
    return w->n;
}

void sw_rescan(sw_watcher *w)
{
    if (w->phase == AWAY)
        w->tries = RETRY_COUNT; /* the next step (at once: timeout RETRY_MS) connects */
}

void sw_close(sw_watcher *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->ino >= 0)
        close(w->ino);
    free(w);
}
