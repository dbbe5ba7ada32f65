/* session_main: esc-session, the session daemon's watcher (see session.h).
 *
 * One thread waits in poll(2) with no timeout on: a signalfd (SIGTERM, SIGINT, SIGCHLD),
 * pcscd's event notification (session_watch.c), the hand-off socket while no server runs, and
 * udev's monitor (where udev runs). What it sees goes into the event log; the work goes to
 * esc-agent processes (session_workers.c). */
#include "session.h"

#include "conf.h"
#include "events.h"
#include "ipc.h"
#include "log.h"
#include "session_udev.h"
#include "session_watch.h"
#include "session_workers.h"

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
    char err[160] = "";
    int l = ipc_activated_listener(err, sizeof err);
    if (l >= 0)
        return l;
    if (l == -2)
        log_warn("%s", err);
    if (ipc_session_listen(rt, &l) != ESC_OK) {
        log_err("cannot listen in %s/%s", rt, IPC_SESSION_DIR);
        return -1;
    }
    return l;
}

static void on_watch(struct workers *wk, const struct sw_event *e)
{
    const char *d = e->detail[0] ? e->detail : NULL;
    switch (e->kind) {
    case SW_INSERT:
        (void)workers_card(wk, e->reader); /* it logs the insert event, with the card's state */
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

/* Signals: true when the daemon is to stop. */
static bool on_signals(int sfd, struct workers *wk)
{
    struct signalfd_siginfo si;
    bool stop = false;
    while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD)
            (void)workers_reap(wk);
        else
            stop = true; /* SIGTERM or SIGINT */
    }
    return stop;
}

static int run(struct workers *wk, int l, int sfd)
{
    sw_watcher *w = sw_open();
    su_monitor *u = su_open();
    struct sw_event ev[3 * 16 + 4]; /* every reader: removal, insertion and more, at once */

    if (!w) {
        log_err("cannot start the reader watcher: out of memory");
        su_close(u);
        return 1;
    }
    events_emit(&(struct event){.event = "daemon_started", .detail = "esc-agent --session"});
    for (;;) {
        struct pollfd p[4] = {{.fd = sfd, .events = POLLIN},
                              {.fd = sw_fd(w), .events = POLLIN},
                              {.fd = wk->server > 0 ? -1 : l, .events = POLLIN},
                              {.fd = u ? su_fd(u) : -1, .events = POLLIN}};
        int n = poll(p, 4, sw_timeout_ms(w));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_err("poll: %s", strerror(errno));
            break;
        }
        if (p[0].revents && on_signals(sfd, wk))
            break;
        if (n == 0 || p[1].revents) {
            size_t k;
            do {
                k = sw_step(w, ev, sizeof ev / sizeof ev[0]);
                for (size_t i = 0; i < k; i++)
                    on_watch(wk, &ev[i]);
            } while (k == sizeof ev / sizeof ev[0]);
        }
        if (p[2].revents && wk->server <= 0)
            (void)workers_server(wk, l); /* it accepts; we look again when it has gone */
        if (p[3].revents) {
            char what[300];
            if (su_read(u, what, sizeof what)) {
                events_emit(&(struct event){.event = "usb_reader", .detail = what});
                sw_rescan(w); /* look for pcscd now, whether it told us yet or not */
            }
        }
    }
    events_emit(&(struct event){.event = "daemon_stopped"});
    workers_stop(wk);
    sw_close(w);
    su_close(u);
    return 0;
}

/* esc-card, installed beside esc-session (session.h): its path, or -1 when it is not there
 * (then each card goes to esc-agent --session-card). */
static int card_worker(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    char *slash;

    if (n <= 0 || (size_t)n >= cap - 1)
        return -1;
    out[n] = '\0';
    slash = strrchr(out, '/');
    if (!slash || (size_t)(slash + 1 - out) + sizeof "esc-card" > cap)
        return -1;
    memcpy(slash + 1, "esc-card", sizeof "esc-card");
    return access(out, X_OK) == 0 ? 0 : -1;
}

int session_main(const char *agent)
{
    static struct esc_conf conf;
    const char *rt = getenv("XDG_RUNTIME_DIR");
    struct workers wk = {.agent = agent};
    static char card[PATH_MAX];
    char err[256] = "", marker[PATH_MAX];
    sigset_t sigs;
    int lock, l, sfd, rc;

    esc_log_init("esc-agent", ESC_LOG_WARN, false);
    if (card_worker(card, sizeof card) == 0)
        wk.card_prog = card;
    if (conf_load(NULL, &conf, err, sizeof err) != ESC_OK) {
        log_err("%s (watching cards with the defaults)", err);
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
    /* a new daemon says once again that notifications fail */
    snprintf(marker, sizeof marker, "%s/%s/%s", rt, IPC_SESSION_DIR, SESSION_NOTIFY_FAILED);
    (void)unlink(marker);
    /* the signals are read from a signalfd (the workers unblock them) */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGCHLD);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        log_err("signalfd: %s", strerror(errno));
        close(l);
        close(lock);
        return 1;
    }
    rc = run(&wk, l, sfd);
    close(sfd);
    close(l);
    close(lock);
    return rc;
}
