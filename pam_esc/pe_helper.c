/* pe_helper: start, stop and reap the PAM-time helper (see pe_helper.h). */
#include "pe_helper.h"

#include "ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#include <linux/close_range.h>
#endif

/* An fd at 3 or above (so that dup2 onto 0..2 in the child cannot clobber it). */
static int above_stdio(int fd)
{
    int n;

    if (fd < 0 || fd > 2)
        return fd;
    n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return n;
}

/* Only async-signal-safe calls from here to execve: the caller may have threads. */
static void child(const struct pe_spawn *s, int sock, int devnull)
{
    struct sigaction dfl;
    sigset_t none;

    (void)setsid();
    (void)umask(077);
    if (chdir("/") != 0)
        _exit(127);
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        (void)sigaction(sig, &dfl, NULL); /* SIGKILL/SIGSTOP and RT internals just fail */
    /* glibc reserves signals 32 and 33 and refuses sigaction() on them; if the caller inherited
     * them ignored, exec would pass that on. The raw system call resets them (an all-zero kernel
     * sigaction is SIG_DFL with no flags and an empty mask, whatever the architecture's layout);
     * the child execs right after, so glibc never needs its own handlers here. */
    for (int sig = 32; sig < SIGRTMIN; sig++) {
        unsigned long ksa[8] = {0};
        (void)syscall(SYS_rt_sigaction, sig, ksa, NULL, sizeof(unsigned long));
    }
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);

    if (dup2(sock, 0) != 0 || dup2(devnull, 1) != 1 || (!s->keep_stderr && dup2(devnull, 2) != 2))
        _exit(127);
    if (close_range(3, ~0U, 0) != 0)
        for (int fd = 3; fd < 65536; fd++)
            (void)close(fd);
    if (s->drop) {
        if (setgroups(0, NULL) != 0 || setgid(s->gid) != 0 || setuid(s->uid) != 0)
            _exit(126);
        if (s->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
            _exit(126); /* privileges must be gone for good */
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) /* no set-id program can give them back */
        _exit(126);
    {
        char *const argv[] = {(char *)"esc-agent", (char *)"--pam", NULL};
        execve(s->path, argv, s->envp);
    }
    _exit(127);
}

esc_err pe_helper_start(const struct pe_spawn *s, struct pe_helper *h)
{
    int sv[2] = {-1, -1}, devnull = -1;
    esc_err e = ESC_ERR_AGENT_UNAVAILABLE;
    pid_t pid;

    h->pid = 0;
    h->fd = -1;
    if (!s || !s->path || s->path[0] != '/' || !s->envp)
        return ESC_ERR_ARG;
    if (access(s->path, X_OK) != 0)
        return ESC_ERR_AGENT_UNAVAILABLE;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return ESC_ERR_IO;
    devnull = above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC));
    sv[0] = above_stdio(sv[0]);
    sv[1] = above_stdio(sv[1]);
    if (devnull < 0 || sv[0] < 0 || sv[1] < 0) {
        e = ESC_ERR_IO;
        goto out;
    }
    pid = fork();
    if (pid < 0)
        goto out;
    if (pid == 0)
        child(s, sv[1], devnull); /* never returns */
    h->pid = pid;
    h->fd = sv[0];
    sv[0] = -1;
    e = ESC_OK;
out:
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    if (devnull >= 0)
        close(devnull);
    return e;
}

/* Reap our child if it has exited: true when it is gone (reaped, or reaped by someone else:
 * an application that ignores SIGCHLD or reaps every child makes waitpid fail with ECHILD). */
static bool reaped(pid_t pid)
{
    int st;
    pid_t r;

    do
        r = waitpid(pid, &st, WNOHANG);
    while (r < 0 && errno == EINTR);
    return r == pid || (r < 0 && errno == ECHILD);
}

/* Poll for the exit until the deadline, sleeping 1, 2, 4 ... 20 ms. */
static bool wait_reaped(pid_t pid, long until_ms)
{
    int nap = 1;

    for (;;) {
        if (reaped(pid))
            return true;
        if (ipc_now_ms() >= until_ms)
            return false;
        (void)poll(NULL, 0, nap);
        nap = nap < 20 ? nap * 2 : 20;
    }
}

bool pe_helper_stop(struct pe_helper *h, int grace_ms, long deadline_ms)
{
    long until = ipc_now_ms() + (grace_ms > 0 ? grace_ms : 0);
    bool gone;

    if (!h)
        return true;
    if (h->fd >= 0) {
        close(h->fd); /* EOF: a helper waiting for us leaves at once */
        h->fd = -1;
    }
    if (h->pid <= 0)
        return true;
    if (until > deadline_ms)
        until = deadline_ms;
    gone = wait_reaped(h->pid, until);
    if (!gone) {
        /* the helper leads its own process group: its children (a probe) go with it */
        (void)kill(-h->pid, SIGKILL);
        (void)kill(h->pid, SIGKILL);
        gone = wait_reaped(h->pid, ipc_now_ms() + 1000);
    } else {
        (void)kill(-h->pid, SIGKILL); /* a child it left behind, if any */
    }
    h->pid = 0;
    return gone;
}
