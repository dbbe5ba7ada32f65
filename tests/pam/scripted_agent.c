/* scripted_agent: esc-agent's hand-off server (agent/handoff) with a script in place of the
 * operation engine, for the PAM tests: what pam_esc does with every message, timing and
 * failure of a helper, without a TPS. Built as $(BUILD)/tests/esc-agent-scripted; the script
 * is the file named by ESC_TEST_SCRIPT (pam_esc's test_script= option puts it in the helper's
 * otherwise empty environment; tests/pam/lib.sh's pam_script writes one).
 *
 *   esc-agent-scripted --pam | --pam-serve     as esc-agent (handoff.h)
 *
 * Script commands, one a line ('#' starts a comment):
 *   info TEXT | error TEXT | progress PCT [TEXT] | sleep MS | hang | exit N | raw HEX
 *   ask_text ID LABEL | ask_secret ID LABEL   (through the hand-off's ask callback)
 *   ask_pin MIN MAX                           (New PIN / Repeat PIN, through the callback)
 *   dump FILE                                 (ids, signals, env, argv, fds of this process)
 *   spawn_child FILE                          (a child that sleeps; its pid goes to FILE)
 *   done_ok [TEXT] | done_fail ERROR_NAME [TEXT] */
#include "handoff/handoff.h"

#include "log.h"
#include "secret.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static long num(const char *s)
{
    long v = strtol(s, NULL, 10);
    return v < 0 ? 0 : v;
}

static esc_err err_by_name(const char *name)
{
    for (int i = 0; i < ESC_ERR__COUNT; i++)
        if (strcmp(esc_err_name((esc_err)i), name) == 0)
            return (esc_err)i;
    return ESC_ERR_INTERNAL;
}

/* What a test wants to know about the helper it got: ids, groups, signal state, argv,
 * environment and open fds. */
static void dump_self(const char *path)
{
    static const char *keys[] = {
        "Pid:", "Uid:", "Gid:", "Groups:", "SigBlk:", "SigIgn:", "PPid:", "NoNewPrivs:"};
    char line[512];
    FILE *o = fopen(path, "we"), *st;
    DIR *d;
    struct dirent *de;
    int fd;

    if (!o)
        return;
    if ((st = fopen("/proc/self/status", "re"))) {
        while (fgets(line, sizeof line, st))
            for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
                if (strncmp(line, keys[i], strlen(keys[i])) == 0)
                    fputs(line, o);
        fclose(st);
    }
    for (const char *const *e = (const char *const *)environ; e && *e; e++)
        fprintf(o, "env: %s\n", *e);
    if ((fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC)) >= 0) {
        ssize_t n = read(fd, line, sizeof line - 1);
        for (ssize_t i = 0; i < n; i++)
            if (line[i] == '\0')
                line[i] = ' ';
        fprintf(o, "argv: %.*s\n", n > 0 ? (int)n : 0, line);
        close(fd);
    }
    if ((d = opendir("/proc/self/fd"))) {
        while ((de = readdir(d))) {
            char p[300], target[256];
            ssize_t n;
            if (de->d_name[0] == '.' || num(de->d_name) == dirfd(d))
                continue;
            snprintf(p, sizeof p, "/proc/self/fd/%s", de->d_name);
            n = readlink(p, target, sizeof target - 1);
            target[n > 0 ? n : 0] = '\0';
            fprintf(o, "fd: %s -> %s\n", de->d_name, target);
        }
        closedir(d);
    }
    fclose(o);
}

/* One script line (the commands are above).
 * Returns 1 when the script ended the hand-off, 0 to go on, -1 when it was cancelled. */
static int script_step(struct handoff *h, char *line, esc_err *result)
{
    char *arg = strchr(line, ' '), *arg2;
    char answer[TPS_SECRET_MAX];

    if (arg)
        *arg++ = '\0';
    else
        arg = line + strlen(line);
    arg2 = strchr(arg, ' ');
    if (strcmp(line, "info") == 0 || strcmp(line, "error") == 0) {
        handoff_send_text(h, line[0] == 'i' ? IPC_INFO : IPC_ERROR, arg);
    } else if (strcmp(line, "progress") == 0) {
        handoff_progress(h, (int)num(arg), arg2 ? arg2 + 1 : NULL);
    } else if (strcmp(line, "sleep") == 0) {
        poll(NULL, 0, (int)num(arg));
    } else if (strcmp(line, "hang") == 0) {
        for (;;)
            pause();
    } else if (strcmp(line, "exit") == 0) {
        _exit((int)num(arg));
    } else if (strcmp(line, "raw") == 0) {
        unsigned char buf[256];
        size_t n = 0;
        for (const char *p = arg; p[0] && p[1] && n < sizeof buf; p += 2) {
            char hex[3] = {p[0], p[1], 0};
            buf[n++] = (unsigned char)strtoul(hex, NULL, 16);
        }
        if (send(h->fd, buf, n, MSG_NOSIGNAL) < 0)
            h->cancelled = true;
    } else if (strcmp(line, "ask_text") == 0 || strcmp(line, "ask_secret") == 0) {
        struct tps_ask q = {.kind = line[4] == 't' ? TPS_ASK_TEXT : TPS_ASK_SECRET,
                            .id = arg,
                            .label = arg2 ? arg2 + 1 : arg};
        if (arg2)
            *arg2 = '\0';
        int rc = handoff_ask(h, &q, answer, sizeof answer);
        secret_wipe(answer, sizeof answer);
        if (rc != 0)
            return -1;
    } else if (strcmp(line, "ask_pin") == 0) {
        struct tps_ask q = {.kind = TPS_ASK_NEW_PIN,
                            .id = "new_pin",
                            .min_len = strtoul(arg, NULL, 10),
                            .max_len = arg2 ? strtoul(arg2 + 1, NULL, 10) : 8};
        int rc = handoff_ask(h, &q, answer, sizeof answer);
        secret_wipe(answer, sizeof answer);
        if (rc != 0)
            return -1;
    } else if (strcmp(line, "dump") == 0) {
        dump_self(arg);
    } else if (strcmp(line, "spawn_child") == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            for (;;)
                pause();
        }
        FILE *o = fopen(arg, "we");
        if (o) {
            fprintf(o, "%d\n", (int)pid);
            fclose(o);
        }
    } else if (strcmp(line, "done_ok") == 0) {
        *result = ESC_OK;
        handoff_done(h, ESC_OK, arg[0] ? arg : "Your smart card is ready.");
        return 1;
    } else if (strcmp(line, "done_fail") == 0) {
        if (arg2)
            *arg2++ = '\0';
        *result = err_by_name(arg);
        handoff_done(h, *result, arg2);
        return 1;
    } else if (line[0] && line[0] != '#') {
        log_warn("test script: unknown command \"%s\"", line);
    }
    return 0;
}

static esc_err run_script(struct handoff *h, const struct esc_conf *c, const struct ipc_msg *req)
{
    const char *path = getenv("ESC_TEST_SCRIPT");

    (void)c; /* the script stands in for the engine, whatever esc.conf says */
    (void)req;
    char line[1024];
    esc_err result = ESC_ERR_INTERNAL;
    FILE *f = path && path[0] ? fopen(path, "re") : NULL;
    int rc = 0;

    if (!f) {
        handoff_done(h, ESC_ERR_IO, "The test script could not be read.");
        return ESC_ERR_IO;
    }
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        rc = script_step(h, line, &result);
    }
    fclose(f);
    secret_wipe(line, sizeof line);
    if (rc < 0) { /* cancelled: as the engine does, say so and leave */
        result = ESC_ERR_CANCELLED;
        handoff_done_cancelled(h);
    } else if (rc == 0) {
        handoff_done(h, ESC_ERR_INTERNAL, "The test script ended without DONE.");
    }
    return result;
}

int main(int argc, char **argv)
{
    return handoff_main(argc, argv, run_script);
}
