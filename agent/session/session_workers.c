/* session_workers: esc-agent processes for the session daemon's work (see session_workers.h). */
#include "session_workers.h"

#include "log.h"
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* fork and exec esc-agent with args; l >= 0: handed over as fd 3 with LISTEN_PID/LISTEN_FDS,
 * as systemd passes a socket. The watcher is single-threaded, so fork is safe here. */
static pid_t start(const char *agent, char *const args[], int l)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_err("cannot start %s: %s", agent, strerror(errno));
        return -1;
    }
    if (pid > 0)
        return pid;
    /* the child: the signals the watcher blocked for its signalfd are the worker's again, and
     * it goes when the watcher goes */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
        _exit(1);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (l >= 0) {
        char pidstr[24];
        if (l != 3 && dup2(l, 3) != 3)
            _exit(127);
        (void)fcntl(3, F_SETFD, 0);
        snprintf(pidstr, sizeof pidstr, "%ld", (long)getpid());
        setenv("LISTEN_PID", pidstr, 1);
        setenv("LISTEN_FDS", "1", 1);
    }
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0)
        (void)dup2(null, 0);
    execv(agent, args);
    fprintf(stderr, "esc-agent: cannot run %s: %s\n", agent, strerror(errno));
    _exit(127);
}

int workers_card(struct workers *w, const char *reader)
{
    size_t i;
    for (i = 0; i < WORKERS_CARDS_MAX && w->card[i] > 0; i++)
        ;
    if (i == WORKERS_CARDS_MAX) {
        log_warn("too many cards at once: the card in %s is not looked at", reader);
        return -1;
    }
    char *const light[] = {(char *)"esc-card", (char *)"--agent", (char *)w->agent, (char *)reader,
                           NULL};
    char *const full[] = {(char *)"esc-agent", (char *)"--session-card", (char *)reader, NULL};
    pid_t pid = w->card_prog ? start(w->card_prog, light, -1) : start(w->agent, full, -1);
    if (pid < 0)
        return -1;
    w->card[i] = pid;
    return 0;
}

int workers_server(struct workers *w, int l)
{
    char idle[16];
    snprintf(idle, sizeof idle, "%d", SESSION_SERVER_IDLE_S);
    char *const args[] = {(char *)"esc-agent", (char *)"--pam-serve", (char *)"--idle-exit", idle,
                          NULL};
    pid_t pid = start(w->agent, args, l);
    if (pid < 0)
        return -1;
    w->server = pid;
    return 0;
}

static void ended(struct workers *w, pid_t pid, int st, bool *server)
{
    const char *what = "a card worker";
    if (pid == w->server) {
        w->server = 0;
        *server = true;
        what = "the hand-off server";
    }
    for (size_t i = 0; i < WORKERS_CARDS_MAX; i++)
        if (w->card[i] == pid)
            w->card[i] = 0;
    if (WIFSIGNALED(st) && WTERMSIG(st) != SIGTERM)
        log_warn("%s (pid %ld) died of signal %d", what, (long)pid, WTERMSIG(st));
    else if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        log_warn("%s (pid %ld) could not run", what, (long)pid);
}

bool workers_reap(struct workers *w)
{
    bool server = false;
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        ended(w, pid, st, &server);
    return server;
}

void workers_stop(struct workers *w)
{
    bool server = false;
    int st;
    pid_t pid;
    if (w->server > 0)
        kill(w->server, SIGTERM);
    for (size_t i = 0; i < WORKERS_CARDS_MAX; i++)
        if (w->card[i] > 0)
            kill(w->card[i], SIGTERM);
    while ((pid = waitpid(-1, &st, 0)) > 0 || (pid < 0 && errno == EINTR))
        if (pid > 0)
            ended(w, pid, st, &server);
}
