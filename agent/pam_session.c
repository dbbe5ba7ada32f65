/* pam_session: the agent's side of the pam_esc hand-off. See pam_session.h. */
#include "pam_session.h"

#include "agent_op.h"
#include "esc_err.h"
#include "ipc.h"
#include "log.h"
#include "secret.h"
#include "term.h"
#include "tps_op.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define REQUEST_WAIT_MS 5000    /* pam_esc sends its REQUEST at once */
#define HANDOFF_MAX_MS  3600000 /* whatever pam_esc asks, never more than an hour */
#define PIN_TRIES       3       /* New PIN / Repeat PIN rounds before giving up */

/* One hand-off in progress. */
struct hs {
    int fd;
    long deadline;
    bool silent;
    bool cancelled;  /* the user cancelled or pam_esc went away: ask nothing more */
    bool retry_said; /* "not accepted" was said for this round of login questions */
    int last_pct;
    char pin[TPS_SECRET_MAX];    /* the confirmed new PIN (secret) */
    char user[IPC_NAME_MAX + 1]; /* the directory user ID answered */
    char why[IPC_TEXT_MAX + 1];  /* why the hand-off stopped early, for DONE */
};

static esc_err send_text(struct hs *h, enum ipc_type t, const char *text)
{
    struct ipc_msg m;
    esc_err e;

    ipc_msg_init(&m, t);
    ipc_set_str(&m, IPC_F_TEXT, text);
    e = ipc_send(h->fd, &m, h->deadline);
    if (e != ESC_OK)
        h->cancelled = true;
    return e;
}

/* Ask one question through pam_esc. 0 and out filled, or -1 (cancelled / gone). */
static int prompt(struct hs *h, bool echo, const char *id, const char *label, char *out, size_t cap)
{
    struct ipc_msg m;
    int rc = -1;

    if (h->cancelled)
        return -1;
    ipc_msg_init(&m, echo ? IPC_PROMPT_ECHO_ON : IPC_PROMPT_ECHO_OFF);
    ipc_set_str(&m, IPC_F_TEXT, label);
    if (id)
        ipc_set_str(&m, IPC_F_ID, id);
    if (ipc_send(h->fd, &m, h->deadline) != ESC_OK || ipc_recv(h->fd, &m, h->deadline) != ESC_OK ||
        m.type != IPC_ANSWER)
        goto out;
    if (!m.ok || !m.secret[0] || strlen(m.secret) >= cap)
        goto out;
    memcpy(out, m.secret, strlen(m.secret) + 1);
    rc = 0;
out:
    if (rc != 0) {
        h->cancelled = true;
        log_info("hand-off: no answer to \"%s\"", label);
    }
    ipc_msg_wipe(&m);
    return rc;
}

/* "New PIN (4-8 characters)" then "Repeat PIN", until both agree and the length is right. */
static int ask_new_pin(struct hs *h, const struct tps_ask *q, char *out, size_t cap)
{
    char first[TPS_SECRET_MAX], again[TPS_SECRET_MAX], label[96], msg[160];
    int rc = -1;

    if (q->max_len)
        snprintf(label, sizeof label, "New PIN (%zu-%zu characters)", q->min_len, q->max_len);
    else
        snprintf(label, sizeof label, "New PIN");
    for (int round = 0; round < PIN_TRIES && rc != 0; round++) {
        size_t n;
        if (prompt(h, false, "new_pin", label, first, sizeof first) != 0)
            break;
        n = strlen(first);
        if (n < q->min_len || (q->max_len && n > q->max_len) || n >= cap) {
            snprintf(msg, sizeof msg, "The PIN must be %zu to %zu characters long.", q->min_len,
                     q->max_len);
            send_text(h, IPC_ERROR, msg);
            continue;
        }
        if (prompt(h, false, "new_pin_again", "Repeat PIN", again, sizeof again) != 0)
            break;
        if (strcmp(first, again) != 0) {
            send_text(h, IPC_ERROR, "The two PINs do not match; please try again.");
            continue;
        }
        memcpy(out, first, n + 1);
        snprintf(h->pin, sizeof h->pin, "%s", first);
        rc = 0;
    }
    if (rc != 0 && !h->cancelled) {
        snprintf(h->why, sizeof h->why, "No new PIN was chosen; the card was not changed.");
        h->cancelled = true;
    }
    secret_wipe(first, sizeof first);
    secret_wipe(again, sizeof again);
    return rc;
}

/* tps_op_ui.ask */
static int hs_ask(void *ctx, const struct tps_ask *q, char *out, size_t cap)
{
    struct hs *h = ctx;
    const char *label = q->label && q->label[0] ? q->label : q->id;

    if (q->kind == TPS_ASK_NEW_PIN)
        return ask_new_pin(h, q, out, cap);
    /* the TPS marks every question of a repeated login round: say it once per round */
    if (q->retry && !h->retry_said && !h->cancelled)
        send_text(h, IPC_ERROR, "The user ID or password was not accepted; please try again.");
    h->retry_said = q->retry;
    if (prompt(h, q->kind == TPS_ASK_TEXT, q->id, label ? label : "Answer", out, cap) != 0)
        return -1;
    if (q->kind == TPS_ASK_TEXT && (!h->user[0] || (q->id && strcmp(q->id, "UID") == 0)))
        snprintf(h->user, sizeof h->user, "%s", out);
    return 0;
}

/* What a TPS progress label means to a user at a login screen (labels: tps-protocol.md §6);
 * any other label is shown as term_task_label() spells it. */
static void task_phrase(const char *task, char *out, size_t cap)
{
    static const struct {
        const char *label, *phrase;
    } map[] = {
        {"PROGRESS_APPLET_BLOCK", "loading the card program"},
        {"PROGRESS_PROCESS_PROFILE", "preparing"},
        {"PROGRESS_START_PIN_RESET", "preparing"},
        {"PROGRESS_PIN_RESET_RESOLVE_PROFILE", "preparing"},
        {"PROGRESS_KEY_GENERATION", "generating keys"},
        {"PROGRESS_WRITE_OBJECTS", "writing certificates"},
        {"PROGRESS_ISSUER_INFO", "writing issuer information"},
        {"PROGRESS_SET_LIFECYCLE", "finishing"},
        {"PROGRESS_DONE", "card program ready"}, /* also ends the format an enroll may start with */
        {"PROGRESS_DONE_ENROLLMENT", "done"},
        {"PROGRESS_DONE_RENEWAL", "done"},
        {"PROGRESS_PIN_RESET_COMPLETE", "done"},
    };
    for (size_t i = 0; task && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(task, map[i].label) == 0) {
            snprintf(out, cap, "%s", map[i].phrase);
            return;
        }
    term_task_label(task, out, cap);
}

/* tps_op_ui.progress */
static void hs_progress(void *ctx, int pct, const char *task)
{
    struct hs *h = ctx;
    struct ipc_msg m;
    char label[64];

    if (h->silent || h->cancelled)
        return;
    pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
    if (pct == h->last_pct)
        return;
    h->last_pct = pct;
    task_phrase(task, label, sizeof label);
    ipc_msg_init(&m, IPC_PROGRESS);
    ipc_set_num(&m, IPC_F_PCT, (uint32_t)pct);
    if (label[0])
        ipc_set_str(&m, IPC_F_TEXT, label);
    if (ipc_send(h->fd, &m, h->deadline) != ESC_OK)
        h->cancelled = true;
}

static void send_done(struct hs *h, esc_err e, const char *sentence)
{
    struct ipc_msg m;

    ipc_msg_init(&m, IPC_DONE);
    ipc_set_num(&m, IPC_F_OK, e == ESC_OK);
    ipc_set_num(&m, IPC_F_CODE, (uint32_t)e);
    ipc_set_str(&m, IPC_F_TEXT, sentence && sentence[0] ? sentence : esc_strerror(e));
    if (e == ESC_OK && h->pin[0])
        ipc_set_str(&m, IPC_F_SECRET, h->pin);
    if (e == ESC_OK && h->user[0])
        ipc_set_str(&m, IPC_F_USER, h->user);
    if (ipc_send(h->fd, &m, h->deadline) != ESC_OK)
        log_info("hand-off: pam_esc left before DONE");
    ipc_msg_wipe(&m);
}

/* ---- the real operation ---------------------------------------------------------------- */

static esc_err run_engine(struct hs *h, const struct esc_conf *c, const struct ipc_msg *req)
{
    static struct agent_op_out out; /* large; one hand-off at a time */
    struct tps_op_ui ui = {.ask = hs_ask, .progress = hs_progress, .ctx = h};
    struct agent_op_args a = {.op = agent_op_parse(req->id),
                              .reader = ipc_has(req, IPC_F_READER) ? req->reader : NULL};
    esc_err e;

    memset(&out, 0, sizeof out);
    if (a.op < 0) {
        send_done(h, ESC_ERR_NOT_SUPPORTED, "This smart card operation is not supported.");
        return ESC_ERR_NOT_SUPPORTED;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    e = agent_run_op(c, &a, &ui, &out);
    curl_global_cleanup();
    if (e != ESC_OK && h->cancelled) {
        e = ESC_ERR_CANCELLED;
        send_done(h, e,
                  h->why[0] ? h->why
                            : "Setting up your smart card was cancelled; the card was "
                              "left as it was.");
    } else {
        send_done(h, e, out.sentence);
    }
    secret_wipe(&out, sizeof out);
    return e;
}

/* ---- tests only: the scripted agent ------------------------------------------------------ */

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
    static const char *keys[] = {"Pid:", "Uid:", "Gid:", "Groups:", "SigBlk:", "SigIgn:", "PPid:"};
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

/* One script line. Commands:
 *   info TEXT | error TEXT | progress PCT [TEXT] | sleep MS | hang | exit N | raw HEX
 *   ask_text ID LABEL | ask_secret ID LABEL   (through the engine's ask callback)
 *   ask_pin MIN MAX                           (New PIN / Repeat PIN, through the callback)
 *   dump FILE                                 (ids, signals, env, argv, fds of this process)
 *   spawn_child FILE                          (a child that sleeps; its pid goes to FILE)
 *   done_ok [TEXT] | done_fail ERROR_NAME [TEXT]
 * Returns 1 when the script ended the hand-off, 0 to go on, -1 when it was cancelled. */
static int script_step(struct hs *h, char *line, esc_err *result)
{
    char *arg = strchr(line, ' '), *arg2;
    char answer[TPS_SECRET_MAX];

    if (arg)
        *arg++ = '\0';
    else
        arg = line + strlen(line);
    arg2 = strchr(arg, ' ');
    if (strcmp(line, "info") == 0 || strcmp(line, "error") == 0) {
        send_text(h, line[0] == 'i' ? IPC_INFO : IPC_ERROR, arg);
    } else if (strcmp(line, "progress") == 0) {
        hs_progress(h, (int)num(arg), arg2 ? arg2 + 1 : NULL);
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
        int rc = hs_ask(h, &q, answer, sizeof answer);
        secret_wipe(answer, sizeof answer);
        if (rc != 0)
            return -1;
    } else if (strcmp(line, "ask_pin") == 0) {
        struct tps_ask q = {.kind = TPS_ASK_NEW_PIN,
                            .id = "new_pin",
                            .min_len = strtoul(arg, NULL, 10),
                            .max_len = arg2 ? strtoul(arg2 + 1, NULL, 10) : 8};
        int rc = hs_ask(h, &q, answer, sizeof answer);
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
        send_done(h, ESC_OK, arg[0] ? arg : "Your smart card is ready.");
        return 1;
    } else if (strcmp(line, "done_fail") == 0) {
        if (arg2)
            *arg2++ = '\0';
        *result = err_by_name(arg);
        send_done(h, *result, arg2);
        return 1;
    } else if (line[0] && line[0] != '#') {
        log_warn("test script: unknown command \"%s\"", line);
    }
    return 0;
}

static esc_err run_script(struct hs *h, const char *path)
{
    char line[1024];
    esc_err result = ESC_ERR_INTERNAL;
    FILE *f = fopen(path, "re");
    int rc = 0;

    if (!f) {
        send_done(h, ESC_ERR_IO, "The test script could not be read.");
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
        send_done(h, result,
                  h->why[0] ? h->why
                            : "Setting up your smart card was cancelled; the card was left as "
                              "it was.");
    } else if (rc == 0) {
        send_done(h, ESC_ERR_INTERNAL, "The test script ended without DONE.");
    }
    return result;
}

/* ---- serving ------------------------------------------------------------------------------ */

int pam_session_serve(int fd, const struct esc_conf *c)
{
    struct hs h;
    struct ipc_msg req;
    const char *script = getenv("ESC_TEST_SCRIPT");
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
    log_info("hand-off: %s for %s on \"%s\"", req.id, ipc_has(&req, IPC_F_USER) ? req.user : "?",
             req.reader);
    if (script && script[0]) {
        e = run_script(&h, script);
    } else if (!c) {
        e = ESC_ERR_CONF;
        send_done(&h, e, "The smart card configuration (esc.conf) is not valid.");
    } else
        e = run_engine(&h, c, &req);
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

/* The listening socket systemd hands over (config/systemd/esc-agent.socket: socket
 * activation, the sd_listen_fds(3) protocol without libsystemd): exactly one, on fd 3, meant
 * for this process, and a listening AF_UNIX stream socket. -1 when not socket-activated. */
static int activated_listener(void)
{
    const char *pid = getenv("LISTEN_PID"), *nfds = getenv("LISTEN_FDS");
    int type = 0, listening = 0, fd = 3;
    struct sockaddr_un sa;
    socklen_t len = sizeof type, alen = sizeof sa;
    char *end;
    long v;

    if (!pid || !nfds)
        return -1;
    errno = 0;
    v = strtol(pid, &end, 10);
    if (errno || *end || v != (long)getpid())
        return -1;
    unsetenv("LISTEN_PID"); /* not for the programs we start */
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (strcmp(nfds, "1") != 0) {
        log_err("socket activation: expected one socket, got LISTEN_FDS=%.16s", nfds);
        return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening ||
        getsockname(fd, (struct sockaddr *)&sa, &alen) != 0 || sa.sun_family != AF_UNIX) {
        log_err("socket activation: fd 3 is not a listening local stream socket");
        return -1;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}

static int serve_session(const struct esc_conf *c)
{
    const char *rt = getenv("XDG_RUNTIME_DIR");
    int l = activated_listener();

    if (l < 0 && (!rt || rt[0] != '/' || ipc_session_listen(rt, &l) != ESC_OK)) {
        log_err("cannot listen in $XDG_RUNTIME_DIR/%s", IPC_SESSION_DIR);
        return 1;
    }
    for (;;) {
        uid_t peer;
        int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break;
        }
        /* only the user's own processes (the screensaver) and root (login) may hand off */
        if (ipc_peer_uid(fd, &peer) == ESC_OK && (peer == geteuid() || peer == 0))
            (void)pam_session_serve(fd, c);
        else
            log_warn("hand-off refused: peer uid %u", (unsigned)peer);
        close(fd);
    }
    close(l);
    return 1;
}

int pam_session_main(int argc, char **argv)
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
        return pam_session_serve(0, cp) == ESC_OK ? 0 : 1;
    if (strcmp(argv[1], "--pam-serve") == 0)
        return serve_session(cp);
    return 2;
}
