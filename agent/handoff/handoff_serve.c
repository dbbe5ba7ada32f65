/* handoff_serve: the hand-off's two ways in, one REQUEST on fd 0 (--pam) or a listening
 * session socket (--pam-serve, made here or passed by systemd). See handoff.h. */
#include "handoff.h"

#include "log.h"
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define REQUEST_WAIT_MS 5000    /* pam_esc sends its REQUEST at once */
#define HANDOFF_MAX_MS  3600000 /* whatever pam_esc asks, never more than an hour */

esc_err handoff_serve(int fd, const struct esc_conf *c, handoff_runner run)
{
    struct handoff h;
    struct ipc_msg req;
    esc_err e;

    memset(&h, 0, sizeof h);
    h.fd = fd;
    h.last_pct = -1;
    e = ipc_recv(fd, &req, ipc_now_ms() + REQUEST_WAIT_MS);
    if (e != ESC_OK || req.type != IPC_REQUEST) {
        log_warn("hand-off: no valid REQUEST (%s)", esc_err_name(e));
        ipc_msg_wipe(&req);
        return e != ESC_OK ? e : ESC_ERR_PROTOCOL;
    }
    h.deadline =
        ipc_now_ms() + (req.timeout_ms < HANDOFF_MAX_MS ? (long)req.timeout_ms : HANDOFF_MAX_MS);
    h.silent = (req.flags & IPC_FLAG_SILENT) != 0;
    h.no_secret = (req.flags & IPC_FLAG_NO_SECRET) != 0;
    h.raw_task = (req.flags & IPC_FLAG_RAW_TASK) != 0;
    log_info("hand-off: %s for %s on \"%s\"", req.id, ipc_has(&req, IPC_F_USER) ? req.user : "?",
             req.reader);
    if (strcmp(req.id, IPC_REQ_STATUS) == 0)
        e = handoff_run_status(&h, &req);
    else
        e = run(&h, c, &req);
    ipc_msg_wipe(&req);
    secret_wipe(&h, sizeof h);
    return e;
}

static int load_conf(struct esc_conf *c)
{
    char err[256] = "";
    if (conf_load(NULL, c, err, sizeof err) != ESC_OK) {
        log_err("%s", err);
        return -1;
    }
    return 0;
}

/* idle_ms > 0: return 0 once no hand-off came for that long (the session daemon starts this
 * server for a hand-off and takes the socket back after it: see session.h). */
static int serve_session(const struct esc_conf *c, handoff_runner run, int idle_ms)
{
    const char *rt = getenv("XDG_RUNTIME_DIR");
    char err[160] = "";
    int l = ipc_activated_listener(err, sizeof err);

    if (l == -2)
        log_err("%s", err);
    if (l < 0 && (!rt || rt[0] != '/' || ipc_session_listen(rt, &l) != ESC_OK)) {
        log_err("cannot listen in $XDG_RUNTIME_DIR/%s", IPC_SESSION_DIR);
        return 1;
    }
    for (;;) {
        uid_t peer;
        struct pollfd p = {.fd = l, .events = POLLIN};
        if (idle_ms > 0) {
            int n = poll(&p, 1, idle_ms);
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0) {
                close(l);
                return 0;
            }
        }
        int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break;
        }
        /* only the user's own processes (the screensaver) and root (login) may hand off */
        if (ipc_peer_uid(fd, &peer) == ESC_OK && (peer == geteuid() || peer == 0))
            (void)handoff_serve(fd, c, run);
        else
            log_warn("hand-off refused: peer uid %u", (unsigned)peer);
        close(fd);
    }
    close(l);
    return 1;
}

int handoff_main(int argc, char **argv, handoff_runner run)
{
    const char *dbg = getenv("ESC_PAM_DEBUG");
    struct esc_conf c;
    const struct esc_conf *cp = &c;

    esc_log_init("esc-agent", dbg ? ESC_LOG_DEBUG : ESC_LOG_WARN,
                 !(dbg && strcmp(dbg, "stderr") == 0));
    if (argc < 2)
        return 2;
    if (load_conf(&c) != 0)
        cp = NULL; /* still answer pam_esc, which then shows why */
    else
        conf_apply_log_level(&c); /* never quieter than pam_esc's debug option */
    if (strcmp(argv[1], "--pam") == 0)
        return handoff_serve(0, cp, run) == ESC_OK ? 0 : 1;
    if (strcmp(argv[1], "--pam-serve") == 0) {
        long idle = 0;
        if (argc == 4 && strcmp(argv[2], "--idle-exit") == 0) {
            char *end;
            errno = 0;
            idle = strtol(argv[3], &end, 10);
            if (errno || *end || idle < 1 || idle > 86400)
                return 2;
        } else if (argc != 2) {
            return 2;
        }
        return serve_session(cp, run, (int)idle * 1000);
    }
    return 2;
}
