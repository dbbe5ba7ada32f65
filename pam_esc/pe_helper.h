/* pe_helper: start the PAM-time helper (`esc-agent --pam`) and make sure it is gone.
 *
 * Process rules for code running inside someone else's process (the PAM application): no
 * thread, no signal disposition changed (no SIGCHLD or SIGPIPE handler: waitpid on our own
 * pid only, WNOHANG polled against a deadline), no fd leaked (every fd CLOEXEC), no exit().
 *
 * The child gets: the socket as fd 0, /dev/null as fd 1 and 2 (or the caller's stderr when
 * debugging to stderr), nothing else (close_range); default signal dispositions and an empty
 * signal mask; a new session (so a ^C at the console does not reach it and its own children
 * can be killed as one process group); the environment given, nothing of the caller's; and,
 * when pam_esc runs as root, the uid/gid of agent_user with no supplementary groups. */
#ifndef PE_HELPER_H
#define PE_HELPER_H

#include "esc_err.h"

#include <stdbool.h>
#include <sys/types.h>

struct pe_helper {
    pid_t pid; /* 0: none */
    int fd;    /* our end of the socketpair, -1: none */
};

struct pe_spawn {
    const char *path;  /* absolute path of the helper */
    char *const *envp; /* the helper's whole environment */
    bool drop;         /* switch to uid/gid below (pam_esc runs as root) */
    uid_t uid;
    gid_t gid;
    bool keep_stderr; /* fd 2 of the helper = our fd 2 (debug_file=stderr) */
};

/* Start the helper. On success h->pid > 0 and h->fd is our end of the socket (CLOEXEC). */
esc_err pe_helper_start(const struct pe_spawn *s, struct pe_helper *h);

/* Close our end, give the helper until min(grace_ms, deadline) to exit by itself, then
 * SIGKILL its process group and reap it (bounded: at most another second). Returns true if
 * the helper was reaped (or was already gone). Safe on a helper that never started. */
bool pe_helper_stop(struct pe_helper *h, int grace_ms, long deadline_ms);

#endif
