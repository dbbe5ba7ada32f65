/* esc-agent: the agent's modes.
 *
 *   esc-agent --pam | --pam-serve     the pam_esc hand-off server (handoff/handoff.h), running
 *                                     the operation engine for each REQUEST
 *   esc-agent --session               the session daemon (session/session.h): execs esc-session,
 *                                     the small watcher that starts esc-agent for the work:
 *   esc-agent --session-card READER   the work for one inserted card (probe, Phone Home, events,
 *                                     notification)
 *   esc-agent --version
 *   esc-agent --op enroll|format|reset-pin|renew ESCCTL_OP_USAGE (escctl/escctl_ops.h)
 *                                     one card operation from a terminal, as escctl runs it;
 *                                     the exit code is escctl's */
#include "escctl/escctl_ops.h"
#include "events.h"
#include "log.h"
#include "handoff/handoff.h"
#include "session/session.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef ESC_VERSION
#define ESC_VERSION "unknown"
#endif

static void usage(void)
{
    fprintf(stderr, "usage: esc-agent --op enroll|format|reset-pin|renew " ESCCTL_OP_USAGE "\n"
                    "       esc-agent --pam | --pam-serve [--idle-exit SECONDS] | --session\n"
                    "       esc-agent -h|--help | --version\n");
}

/* The engine for a hand-off, with its start and outcome in the event log (the session
 * daemon's file, or syslog for the PAM-time helper). */
static esc_err run_logged(struct handoff *h, const struct esc_conf *c, const struct ipc_msg *req)
{
    const char *reader = ipc_has(req, IPC_F_READER) && req->reader[0] ? req->reader : NULL;
    char d[IPC_NAME_MAX + 64];
    esc_err e;

    snprintf(d, sizeof d, "%s for %s", req->id, ipc_has(req, IPC_F_USER) ? req->user : "?");
    events_emit(&(struct event){.event = "op_start", .reader = reader, .detail = d});
    e = handoff_run_engine(h, c, req);
    events_emit(&(struct event){.event = e == ESC_OK ? "op_ok" : "op_failed",
                                .reader = reader,
                                .code = esc_err_name(e),
                                .detail = e == ESC_OK ? req->id : esc_strerror(e)});
    return e;
}

/* The session daemon: esc-session from esc-agent's own directory (both are installed side by
 * side), told where esc-agent is. The same process: the lock, systemd's LISTEN_PID and the
 * socket it passes stay valid. */
static int exec_session(void)
{
    char self[PATH_MAX], watcher[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "esc-agent: cannot find my own path: %s\n", strerror(errno));
        return 1;
    }
    self[n] = '\0';
    snprintf(watcher, sizeof watcher, "%s", self);
    char *slash = strrchr(watcher, '/');
    snprintf(slash ? slash + 1 : watcher,
             sizeof watcher - (size_t)(slash ? slash + 1 - watcher : 0), "esc-session");
    char *const args[] = {(char *)"esc-session", (char *)"--agent", self, NULL};
    execv(watcher, args);
    fprintf(stderr, "esc-agent: cannot run %s: %s\n", watcher, strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    char *args[64];
    int n = 0;
    const char *op = NULL;

    /* Every mode handles a hostile server's bytes and the user's secrets: nothing it execs
     * (or is tricked into execing) may gain privileges. pam_esc sets it before exec as well. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        perror("esc-agent: no_new_privs");
        return ESCCTL_EXIT_FAIL;
    }
    if (argc > 1 && strcmp(argv[1], "--pam") == 0) { /* the PAM-time helper: events to syslog */
        events_to_syslog();
        return handoff_main(argc, argv, run_logged);
    }
    if (argc > 1 && strcmp(argv[1], "--pam-serve") == 0) {
        (void)events_to_file(NULL);
        return handoff_main(argc, argv, run_logged);
    }
    if (argc == 2 && strcmp(argv[1], "--session") == 0)
        return exec_session();
    if (argc == 3 && strcmp(argv[1], "--session-card") == 0)
        return session_card_main(argv[2]);
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("esc-agent %s\n", ESC_VERSION);
        return 0;
    }
    esc_log_init("esc-agent", ESC_LOG_WARN, false);
    signal(SIGPIPE, SIG_IGN);
    /* pull "--op NAME" out; the rest are the operation's own options */
    args[n++] = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--op") == 0 && i + 1 < argc) {
            op = argv[++i];
        } else if (strncmp(argv[i], "--op=", 5) == 0) {
            op = argv[i] + 5;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return ESCCTL_EXIT_OK;
        } else if (n < (int)(sizeof args / sizeof args[0]) - 1) {
            args[n++] = argv[i];
        } else {
            usage();
            return ESCCTL_EXIT_USAGE;
        }
    }
    if (!op) {
        usage();
        return ESCCTL_EXIT_USAGE;
    }
    args[0] = (char *)op;
    args[n] = NULL;
    return escctl_cmd_operation(n, args);
}
