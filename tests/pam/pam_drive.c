/* pam_drive: run a PAM stack from a private service directory (pam_start_confdir, no
 * /etc/pam.d, no wrapper) with a scripted conversation, and report what a user and the
 * calling application would notice.
 *
 *   pam_drive [options] SERVICE USER|- CONFDIR
 *     -a ANSWER     answer the next prompt with ANSWER (repeatable, in order); "!cancel" makes
 *                   the conversation fail at that prompt; with no answer left it fails too
 *     -p TEXT=ANSWER answer every prompt that starts with TEXT with ANSWER (before -a answers;
 *                   e.g. -p 'Password: =letmein' for the password module after pam_esc)
 *     -s            pass PAM_SILENT
 *     -S            snapshot threads, fds, signal dispositions and the signal mask before
 *                   pam_start and after pam_end; print differences; exit 3 if any
 *     -t VALUE      after authenticate, report whether PAM_AUTHTOK equals VALUE (never
 *                   printing it)
 *     -n N          run the stack N times in the same process (leak checks)
 *     -c ign|reap   the application's own SIGCHLD handling: ignored (children reap
 *                   themselves), or a handler that reaps every child (as GLib's child watch)
 *     -r RHOST      set PAM_RHOST (as sshd, or login -h, set it for a network login)
 *     -T TTY        set PAM_TTY (login sets its terminal: tty1, /dev/tty1)
 *     -E NAME=VALUE put NAME=VALUE in the PAM environment (GDM sets XDG_SEAT so)
 *     -C            after a successful authenticate, pam_setcred(PAM_ESTABLISH_CRED) as login
 *                   and GDM do ("setcred: <rc>")
 *
 * Output, one line each: "PROMPT_ECHO_OFF: <text>", "PROMPT_ECHO_ON: <text>", "INFO: <text>",
 * "ERROR: <text>", then "authenticate: <rc> (<text>) <ms> ms", "user: <PAM_USER>",
 * "authtok: matches|differs|unset", "children: <n>" (our live or zombie children after
 * pam_end). Exit: 0 if authenticate returned PAM_SUCCESS, 1 otherwise, 3 snapshot differs. */
#include <security/pam_appl.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ANSWERS 32

static const char *answers[MAX_ANSWERS];
static int nanswers, next_answer;
static char *keyed[MAX_ANSWERS]; /* "TEXT=ANSWER" */
static int nkeyed;
static int do_setcred;

/* The -p answer for this prompt, or NULL. */
static const char *keyed_answer(const char *prompt)
{
    for (int i = 0; i < nkeyed; i++) {
        const char *eq = strchr(keyed[i], '=');
        if (eq && strncmp(prompt, keyed[i], (size_t)(eq - keyed[i])) == 0)
            return eq + 1;
    }
    return NULL;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    struct pam_response *r = calloc((size_t)n, sizeof *r);
    (void)data;
    if (!r)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        const char *a;
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON:
            printf("%s: %s\n",
                   msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ? "PROMPT_ECHO_OFF" : "PROMPT_ECHO_ON",
                   msg[i]->msg);
            a = keyed_answer(msg[i]->msg);
            if (!a)
                a = next_answer < nanswers ? answers[next_answer++] : NULL;
            if (!a || strcmp(a, "!cancel") == 0) {
                printf("(conversation fails)\n");
                for (int j = 0; j < i; j++)
                    free(r[j].resp);
                free(r);
                fflush(stdout);
                return PAM_CONV_ERR;
            }
            r[i].resp = strdup(a);
            break;
        case PAM_ERROR_MSG:
            printf("ERROR: %s\n", msg[i]->msg);
            break;
        case PAM_TEXT_INFO:
            printf("INFO: %s\n", msg[i]->msg);
            break;
        default:
            printf("STYLE%d: %s\n", msg[i]->msg_style, msg[i]->msg);
        }
    }
    fflush(stdout);
    *resp = r;
    return PAM_SUCCESS;
}

/* ---- process snapshot ----------------------------------------------------------------- */

struct snap {
    char fds[4096];
    char sigs[256]; /* SigBlk, SigIgn, SigCgt from /proc/self/status */
    int threads;
    struct sigaction act[NSIG];
    sigset_t mask;
};

static int count_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    int n = 0;
    if (!d)
        return -1;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* A /proc signal mask without the signals glibc reserves for itself (32 up to SIGRTMIN: its
 * thread cancellation and set*id broadcast). glibc installs its handler for them when the
 * process makes its first thread (pam_esc's probe deadline thread does, pcsc_watchdog.h), once
 * per process and for good; no program can see or change them through libc (sigaction()
 * refuses them, as the per-signal comparison below shows), so they are not the host's. */
static unsigned long long without_libc_signals(unsigned long long mask)
{
    for (int sig = 32; sig < SIGRTMIN; sig++)
        mask &= ~(1ULL << (sig - 1));
    return mask;
}

static void take(struct snap *s)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    size_t off = 0;

    memset(s, 0, sizeof *s);
    while (d && (de = readdir(d))) {
        char p[300], target[256];
        ssize_t n;
        if (de->d_name[0] == '.' || strtol(de->d_name, NULL, 10) == dirfd(d))
            continue;
        snprintf(p, sizeof p, "/proc/self/fd/%s", de->d_name);
        n = readlink(p, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        /* sockets and pipes get a new inode number each time: compare the kind only */
        if (strncmp(target, "socket:", 7) == 0 || strncmp(target, "pipe:", 5) == 0)
            target[strcspn(target, ":")] = '\0';
        off += (size_t)snprintf(s->fds + off, sizeof s->fds - off, "%s->%s ", de->d_name, target);
        if (off >= sizeof s->fds)
            off = sizeof s->fds - 1;
    }
    if (d)
        closedir(d);
    s->threads = count_dir("/proc/self/task");
    {
        FILE *st = fopen("/proc/self/status", "re");
        char line[256];
        size_t o = 0;
        while (st && fgets(line, sizeof line, st))
            if (strncmp(line, "SigBlk:", 7) == 0 || strncmp(line, "SigIgn:", 7) == 0 ||
                strncmp(line, "SigCgt:", 7) == 0)
                o += (size_t)snprintf(s->sigs + o, sizeof s->sigs - o, "%.7s %016llx\n", line,
                                      without_libc_signals(strtoull(line + 8, NULL, 16)));
        if (st)
            fclose(st);
    }
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, NULL, &s->act[sig]);
    sigprocmask(SIG_SETMASK, NULL, &s->mask);
}

static int compare(const struct snap *a, const struct snap *b)
{
    int diff = 0;
    if (strcmp(a->fds, b->fds) != 0) {
        printf("snapshot: fds differ:\n  before: %s\n  after:  %s\n", a->fds, b->fds);
        diff = 1;
    }
    if (strcmp(a->sigs, b->sigs) != 0) {
        printf("snapshot: /proc signal masks differ:\n%s%s", a->sigs, b->sigs);
        diff = 1;
    }
    if (a->threads != b->threads) {
        printf("snapshot: threads %d -> %d\n", a->threads, b->threads);
        diff = 1;
    }
    for (int sig = 1; sig < NSIG; sig++) {
        if (a->act[sig].sa_handler != b->act[sig].sa_handler ||
            a->act[sig].sa_flags != b->act[sig].sa_flags) {
            printf("snapshot: disposition of signal %d changed\n", sig);
            diff = 1;
        }
        if (sigismember(&a->mask, sig) != sigismember(&b->mask, sig)) {
            printf("snapshot: signal %d mask changed\n", sig);
            diff = 1;
        }
    }
    printf("snapshot: %s (%d threads)\n", diff ? "DIFFERS" : "same", b->threads);
    return diff;
}

/* Our children, alive or zombie, from /proc. */
static int children(void)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d))) {
        char p[300], buf[512], *rp;
        FILE *f;
        int ppid = 0;
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(p, sizeof p, "/proc/%s/stat", de->d_name);
        if (!(f = fopen(p, "re")))
            continue;
        if (fgets(buf, sizeof buf, f) && (rp = strrchr(buf, ')')) &&
            sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == getpid()) {
            printf("child: %s", buf);
            n++;
        }
        fclose(f);
    }
    if (d)
        closedir(d);
    return n;
}

static const char *rhost, *tty, *penv;

static volatile sig_atomic_t reaped_by_app;

static void reap_all(int sig)
{
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        reaped_by_app++;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int run_once(const char *service, const char *user, const char *confdir, int flags,
                    const char *want_tok)
{
    struct pam_conv c = {conv, NULL};
    pam_handle_t *h = NULL;
    const void *item = NULL;
    long t0;
    int rv;

    next_answer = 0;
    rv = pam_start_confdir(service, user, &c, confdir, &h);
    if (rv != PAM_SUCCESS) {
        printf("pam_start_confdir: %d\n", rv);
        return rv;
    }
    if ((rhost && pam_set_item(h, PAM_RHOST, rhost) != PAM_SUCCESS) ||
        (tty && pam_set_item(h, PAM_TTY, tty) != PAM_SUCCESS) ||
        (penv && pam_putenv(h, penv) != PAM_SUCCESS)) {
        printf("pam_set_item/pam_putenv failed\n");
        pam_end(h, PAM_SYSTEM_ERR);
        return PAM_SYSTEM_ERR;
    }
    t0 = now_ms();
    rv = pam_authenticate(h, flags);
    printf("authenticate: %d (%s) %ld ms\n", rv, pam_strerror(h, rv), now_ms() - t0);
    if (pam_get_item(h, PAM_USER, &item) == PAM_SUCCESS && item)
        printf("user: %s\n", (const char *)item);
    else
        printf("user: (none)\n");
    if (do_setcred && rv == PAM_SUCCESS)
        printf("setcred: %d\n", pam_setcred(h, PAM_ESTABLISH_CRED));
    if (want_tok) {
        item = NULL;
        pam_get_item(h, PAM_AUTHTOK, &item);
        printf("authtok: %s\n", !item                         ? "unset"
                                : strcmp(item, want_tok) == 0 ? "matches"
                                                              : "differs");
    }
    pam_end(h, rv);
    return rv;
}

int main(int argc, char **argv)
{
    const char *want_tok = NULL, *user;
    int flags = 0, snap = 0, runs = 1, opt, rv = PAM_SYSTEM_ERR, diff = 0;
    struct snap before, after;

    while ((opt = getopt(argc, argv, "a:p:sSt:n:c:r:T:E:C")) != -1) {
        switch (opt) {
        case 'a':
            if (nanswers < MAX_ANSWERS)
                answers[nanswers++] = optarg;
            break;
        case 'p':
            if (nkeyed < MAX_ANSWERS && strchr(optarg, '='))
                keyed[nkeyed++] = optarg;
            break;
        case 's':
            flags |= PAM_SILENT;
            break;
        case 'S':
            snap = 1;
            break;
        case 'C':
            do_setcred = 1;
            break;
        case 't':
            want_tok = optarg;
            break;
        case 'c': {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = strcmp(optarg, "ign") == 0 ? SIG_IGN : reap_all;
            sa.sa_flags = SA_RESTART;
            sigaction(SIGCHLD, &sa, NULL);
            break;
        }
        case 'n':
            runs = (int)strtol(optarg, NULL, 10);
            break;
        case 'r':
            rhost = optarg;
            break;
        case 'T':
            tty = optarg;
            break;
        case 'E':
            penv = optarg;
            break;
        default:
            return 2;
        }
    }
    if (argc - optind != 3) {
        fprintf(stderr, "usage: pam_drive [-a ANSWER]... [-s] [-S] [-t AUTHTOK] [-n N] [-r RHOST] "
                        "[-T TTY] [-E NAME=VALUE] [-C] SERVICE "
                        "USER|- CONFDIR\n");
        return 2;
    }
    user = strcmp(argv[optind + 1], "-") == 0 ? NULL : argv[optind + 1];
    if (snap)
        take(&before);
    for (int i = 0; i < runs; i++)
        rv = run_once(argv[optind], user, argv[optind + 2], flags, want_tok);
    if (snap) {
        take(&after);
        diff = compare(&before, &after);
    }
    printf("children: %d\n", children());
    if (reaped_by_app)
        printf("reaped by the application: %d\n", (int)reaped_by_app);
    fflush(stdout);
    if (diff)
        return 3;
    return rv == PAM_SUCCESS ? 0 : 1;
}
