/* test_pam_fastpath: pam_esc.so loaded by libpam (pam_start_confdir, a private service
 * directory) where there is nothing to do: no pcscd, or a card state that needs no operation.
 * It must answer PAM_IGNORE (never PAM_SUCCESS), say nothing, start no helper, and leave the
 * process as it found it; with no pcscd it decides in under 10 ms (design.md targets). */
#include "check.h"

#include <security/pam_appl.h>

#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char module[PATH_MAX], helper[PATH_MAX], dir[64];
static int nmsgs;

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    (void)msg;
    (void)resp;
    (void)data;
    nmsgs += n;
    return PAM_CONV_ERR; /* pam_esc must not talk at all here */
}

static long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000L + ts.tv_nsec / 1000L;
}

static int count_entries(const char *path)
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

/* Write service NAME: pam_esc with OPTS; only PAM_IGNORE from it reaches pam_permit. */
static void service(const char *name, const char *opts)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f,
            "auth [ignore=1 default=die] %s helper=%s %s\n"
            "auth requisite pam_deny.so\n"
            "auth required pam_permit.so\n"
            "account required pam_permit.so\n",
            module, helper, opts);
    fclose(f);
}

/* Run authenticate and setcred; 0 if pam_esc answered PAM_IGNORE to both. */
static int run(const char *name, const char *user, long *us)
{
    struct pam_conv c = {conv, NULL};
    pam_handle_t *h = NULL;
    long t0;
    int rv, rv2;

    if (pam_start_confdir(name, user, &c, dir, &h) != PAM_SUCCESS)
        return -1;
    t0 = now_us();
    rv = pam_authenticate(h, 0);
    if (us)
        *us = now_us() - t0;
    rv2 = pam_setcred(h, PAM_ESTABLISH_CRED);
    pam_end(h, rv);
    return rv == PAM_SUCCESS && rv2 == PAM_SUCCESS ? 0 : 1;
}

static void no_pcscd_is_ignored_fast_and_silent(void)
{
    long best = 1L << 30, us = 0;
    int fds0 = count_entries("/proc/self/fd"), threads0 = count_entries("/proc/self/task");
    struct sigaction chld0, pipe0, chld1, pipe1;

    sigaction(SIGCHLD, NULL, &chld0);
    sigaction(SIGPIPE, NULL, &pipe0);
    setenv("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm", 1);
    service("login", "");
    nmsgs = 0;
    for (int i = 0; i < 5; i++) { /* the first run also loads the module */
        EXPECT_EQ(run("login", "jsmith", &us), 0);
        if (us < best)
            best = us;
    }
    printf("no pcscd: pam_authenticate best of 5 = %ld us\n", best);
    EXPECT(best < 10000);
    EXPECT_EQ(nmsgs, 0);
    EXPECT_EQ(count_entries("/proc/self/fd"), fds0);
    EXPECT_EQ(count_entries("/proc/self/task"), threads0);
    sigaction(SIGCHLD, NULL, &chld1);
    sigaction(SIGPIPE, NULL, &pipe1);
    EXPECT(chld0.sa_handler == chld1.sa_handler && pipe0.sa_handler == pipe1.sa_handler);
}

static void nothing_to_do_states_start_no_helper(void)
{
    static const char *states[] = {"ENROLLED", "NO_CARD", "NO_READER", "NO_PCSCD", "ERROR"};
    char opts[128], marker[128];

    /* the helper path is a file that must never be executed: it would leave a marker */
    snprintf(marker, sizeof marker, "%s/started", dir);
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        snprintf(opts, sizeof opts, "test_card_state=%s", states[i]);
        service("login", opts);
        nmsgs = 0;
        EXPECT_EQ(run("login", "jsmith", NULL), 0);
        EXPECT_EQ(nmsgs, 0);
        EXPECT(access(marker, F_OK) != 0);
    }
}

static void bad_options_still_ignore(void)
{
    service("bad", "timeout=0 operations=bogus conf=relative/path whatever test_card_state=NOPE");
    EXPECT_EQ(run("bad", "jsmith", NULL), 0);
    service("noconf", "conf=/nonexistent/esc.conf test_card_state=UNINITIALIZED");
    nmsgs = 0;
    EXPECT_EQ(run("noconf", "jsmith", NULL), 0);
    EXPECT_EQ(nmsgs, 0); /* a missing conf= file: nothing offered, nothing said */
}

static void operations_none_never_probes(void)
{
    service("login", "operations=none");
    unsetenv("PCSCLITE_CSOCK_NAME");
    nmsgs = 0;
    EXPECT_EQ(run("login", "jsmith", NULL), 0);
    EXPECT_EQ(nmsgs, 0);
}

int main(int argc, char **argv)
{
    char self[PATH_MAX], *d;
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    FILE *f;

    (void)argc;
    (void)argv;
    if (n <= 0)
        return 1;
    self[n] = '\0';
    d = dirname(dirname(dirname(self))); /* BUILD/tests/unit/x -> BUILD */
    snprintf(module, sizeof module, "%s/pam_esc.so", d);
    snprintf(dir, sizeof dir, "/tmp/test_pam_fastpath.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(helper, sizeof helper, "%s/helper.sh", dir);
    if ((f = fopen(helper, "w"))) {
        fprintf(f, "#!/bin/sh\ntouch %s/started\n", dir);
        fclose(f);
        chmod(helper, 0755);
    }
    if (access(module, R_OK) != 0) {
        printf("SKIP: pam_fastpath: %s not built\n", module);
        return 0;
    }
    RUN(no_pcscd_is_ignored_fast_and_silent);
    RUN(nothing_to_do_states_start_no_helper);
    RUN(bad_options_still_ignore);
    RUN(operations_none_never_probes);
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            printf("(could not remove %s)\n", dir);
    }
    return check_status();
}
