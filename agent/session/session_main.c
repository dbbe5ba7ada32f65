/* session_main: `esc-agent --session`, the main loop (see session.h).
 *
 * One thread waits in poll(2) with no timeout on: the hand-off socket, the reader watcher's
 * eventfd, udev's monitor (where udev runs) and a signalfd for SIGTERM/SIGINT. The reader
 * watcher (session_watch.c) is the only other thread. Work (a probe, Phone Home, a hand-off)
 * runs on the main thread, one thing at a time. */
#include "session.h"

#include "events.h"
#include "ipc.h"
#include "log.h"
#include "session_card.h"
#include "session_udev.h"
#include "session_watch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define LOCK_NAME "session.lock"

/* One daemon per user: an flock on $XDG_RUNTIME_DIR/esc-agent/session.lock holding our pid.
 * Returns the locked fd, or -1 after saying why. */
static int take_lock(const char *rt)
{
    char dir[PATH_MAX], path[PATH_MAX + 32], pid[32] = "";
    int fd, n;

    snprintf(dir, sizeof dir, "%s/%s", rt, IPC_SESSION_DIR);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_err("cannot make %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", dir, LOCK_NAME);
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_err("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        n = (int)read(fd, pid, sizeof pid - 1);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        fprintf(stderr, "esc-agent: the session daemon already runs for this user%s%s%s\n",
                pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
        close(fd);
        return -1;
    }
    n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
        log_warn("cannot write our pid to %s", path);
    return fd;
}

/* The socket systemd passes (esc-agent.socket), else our own in $XDG_RUNTIME_DIR. */
static int listener(const char *rt)
{
    int n = sd_listen_fds(1), l = -1;
    if (n == 1 && sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) > 0)
        return SD_LISTEN_FDS_START;
    if (n > 0)
        log_warn("socket activation: expected one listening local stream socket, got %d", n);
    if (ipc_session_listen(rt, &l) != ESC_OK) {
        log_err("cannot listen in %s/%s", rt, IPC_SESSION_DIR);
        return -1;
    }
    return l;
}

static void serve_one(int l, const struct esc_conf *c, session_serve_fn serve)
{
    uid_t peer = (uid_t)-1;
    int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    /* only the user's own processes (the screensaver) and root (login) may hand off */
    if (ipc_peer_uid(fd, &peer) == ESC_OK && (peer == geteuid() || peer == 0))
        serve(fd, c);
    else
        log_warn("hand-off refused: peer uid %u", (unsigned)peer);
    close(fd);
}

static void on_watch(struct session_state *s, sw_watcher *w)
{
    struct sw_event ev[16];
    size_t n = sw_take(w, ev, 16);
    for (size_t i = 0; i < n; i++) {
        const struct sw_event *e = &ev[i];
        const char *d = e->detail[0] ? e->detail : NULL;
        switch (e->kind) {
        case SW_INSERT:
            session_card_inserted(s, e->reader);
            break;
        case SW_REMOVE:
            events_emit(&(struct event){.event = "remove", .reader = e->reader, .detail = d});
            break;
        case SW_READER_ADDED:
            events_emit(&(struct event){.event = "reader_added", .reader = e->reader});
            break;
        case SW_READER_REMOVED:
            events_emit(&(struct event){.event = "reader_removed", .reader = e->reader});
            break;
        case SW_PCSCD_LOST:
            log_warn("%s", e->detail);
            events_emit(&(struct event){
                .event = "pcscd_lost", .code = esc_err_name(ESC_ERR_NO_PCSCD), .detail = d});
            break;
        case SW_PCSCD_BACK:
            log_info("connected to pcscd");
            events_emit(&(struct event){.event = "pcscd_connected", .detail = d});
            break;
        }
    }
}

static int run(struct session_state *s, const struct esc_conf *serve_conf, session_serve_fn serve,
               int l, int sfd)
{
    sw_watcher *w = NULL;
    su_monitor *u = su_open();

    if (sw_start(&w) != 0) {
        log_err("cannot start the reader watcher: %s", strerror(errno));
        su_close(u);
        return 1;
    }
    events_emit(&(struct event){.event = "daemon_started", .detail = "esc-agent --session"});
    for (;;) {
        struct pollfd p[4] = {{.fd = sfd, .events = POLLIN},
                              {.fd = sw_fd(w), .events = POLLIN},
                              {.fd = l, .events = POLLIN},
                              {.fd = u ? su_fd(u) : -1, .events = POLLIN}};
        if (poll(p, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_err("poll: %s", strerror(errno));
            break;
        }
        if (p[0].revents)
            break; /* SIGTERM or SIGINT */
        if (p[1].revents)
            on_watch(s, w);
        if (p[2].revents)
            serve_one(l, serve_conf, serve);
        if (p[3].revents) {
            char what[300];
            if (su_read(u, what, sizeof what)) {
                events_emit(&(struct event){.event = "usb_reader", .detail = what});
                sw_rescan(w); /* read the reader list now, whether pcscd told us yet or not */
            }
        }
    }
    events_emit(&(struct event){.event = "daemon_stopped"});
    sw_stop(w);
    su_close(u);
    return 0;
}

int session_main(session_serve_fn serve)
{
    static struct esc_conf conf, defaults;
    const char *rt = getenv("XDG_RUNTIME_DIR");
    const struct esc_conf *serve_conf = &conf;
    struct session_state s = {.conf = &conf};
    char err[256] = "";
    sigset_t sigs;
    int lock, l, sfd, rc;

    esc_log_init("esc-agent", ESC_LOG_WARN, false);
    if (conf_load(NULL, &conf, err, sizeof err) != ESC_OK) {
        log_err("%s (watching cards with the defaults)", err);
        conf_defaults(&defaults);
        s.conf = &defaults;
        serve_conf = NULL; /* hand-offs are answered with the reason */
    } else {
        conf_apply_log_level(&conf);
    }
    if (!rt || rt[0] != '/') {
        log_err("$XDG_RUNTIME_DIR is not set: the session daemon runs in a user's session");
        return 1;
    }
    lock = take_lock(rt);
    if (lock < 0)
        return 1;
    l = listener(rt);
    if (l < 0) {
        close(lock);
        return 1;
    }
    if (events_to_file(NULL) != 0)
        log_warn("no event log: neither $XDG_STATE_HOME nor $HOME gives a usable directory");
    /* the signals are read from a signalfd; blocked before the watcher thread exists so that
     * it inherits the mask */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        log_err("signalfd: %s", strerror(errno));
        close(l);
        close(lock);
        return 1;
    }
    rc = run(&s, serve_conf, serve, l, sfd);
    if (s.curl_ready)
        curl_global_cleanup();
    close(sfd);
    close(l);
    close(lock);
    return rc;
}
