/* term: terminal prompts and progress for escctl. See term.h. */
#include "term.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define BAR_WIDTH 30

static struct termios saved_tio;
static volatile sig_atomic_t tio_fd = -1;

/* Restore echo if the user interrupts a hidden prompt, then die of the same signal. */
static void restore_on_signal(int sig)
{
    if (tio_fd >= 0)
        tcsetattr(tio_fd, TCSAFLUSH, &saved_tio);
    signal(sig, SIG_DFL);
    raise(sig);
}

void term_ui_init(struct term_ui *t, bool quiet)
{
    memset(t, 0, sizeof *t);
    t->progress_tty = isatty(STDERR_FILENO);
    t->quiet = quiet;
    t->last_pct = -1;
}

void term_progress_done(struct term_ui *t)
{
    if (t->bar_open) {
        fputc('\n', stderr);
        t->bar_open = false;
    }
}

void term_progress(void *ctx, int pct, const char *task)
{
    struct term_ui *t = ctx;
    char label[64];
    if (t->quiet)
        return;
    if (pct < 0)
        pct = 0;
    if (pct > 100)
        pct = 100;
    tps_task_label(task, label, sizeof label);
    if (t->progress_tty) {
        char bar[BAR_WIDTH + 1];
        int fill = pct * BAR_WIDTH / 100;
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, ' ', (size_t)(BAR_WIDTH - fill));
        bar[BAR_WIDTH] = '\0';
        fprintf(stderr, "\r[%s] %3d%% %-28.28s", bar, pct, label);
        t->bar_open = true;
    } else if (pct != t->last_pct) {
        fprintf(stderr, "progress: %d%% %s\n", pct, label);
    }
    t->last_pct = pct;
    fflush(stderr);
}

/* Read a line from the tty, echo off if hide. 0 ok, -1 EOF/error/too long. */
static int read_line(int fd, FILE *out, const char *prompt, bool hide, char *buf, size_t cap)
{
    struct termios tio;
    bool changed = false;
    size_t n = 0;
    int rc = -1;
    struct sigaction sa = {.sa_handler = restore_on_signal}, old_int, old_term;

    fprintf(out, "%s", prompt);
    fflush(out);
    if (hide && tcgetattr(fd, &saved_tio) == 0) {
        tio = saved_tio;
        tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        tio.c_lflag |= ICANON;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        tio_fd = fd;
        if (tcsetattr(fd, TCSAFLUSH, &tio) == 0)
            changed = true;
    }
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (c == '\n' || c == '\r') {
            rc = 0;
            break;
        }
        if (n + 1 >= cap) { /* too long: drain the line, refuse */
            while (read(fd, &c, 1) == 1 && c != '\n')
                ;
            break;
        }
        buf[n++] = c;
    }
    buf[n] = '\0';
    if (changed) {
        tcsetattr(fd, TCSAFLUSH, &saved_tio);
        fprintf(out, "\n");
    }
    if (hide) {
        tio_fd = -1;
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    if (rc < 0)
        explicit_bzero(buf, cap);
    return rc;
}

static bool pin_chars_ok(const char *pin)
{
    for (const unsigned char *p = (const unsigned char *)pin; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '&' || *p == '=' || *p == '%' || *p == '+')
            return false;
    return true;
}

static int ask_new_pin(int fd, FILE *out, const struct tps_ask *q, char *buf, size_t cap)
{
    char again[TPS_SECRET_MAX];
    int rc = -1;
    for (int tries = 0; tries < 3 && rc < 0; tries++) {
        char prompt[96];
        snprintf(prompt, sizeof prompt, "New PIN (%zu to %zu characters): ", q->min_len,
                 q->max_len);
        if (read_line(fd, out, prompt, true, buf, cap) < 0)
            break;
        size_t n = strlen(buf);
        if (n < q->min_len || n > q->max_len) {
            fprintf(out, "The PIN must be %zu to %zu characters long.\n", q->min_len, q->max_len);
            continue;
        }
        if (!pin_chars_ok(buf)) {
            fprintf(out, "The PIN may not contain spaces, control characters or & = %% +.\n");
            continue;
        }
        if (read_line(fd, out, "Repeat the new PIN: ", true, again, sizeof again) < 0)
            break;
        if (strcmp(buf, again) != 0) {
            fprintf(out, "The two PINs differ; try again.\n");
            continue;
        }
        rc = 0;
    }
    explicit_bzero(again, sizeof again);
    if (rc < 0)
        explicit_bzero(buf, cap);
    return rc;
}

int term_ask(void *ctx, const struct tps_ask *q, char *out, size_t cap)
{
    struct term_ui *t = ctx;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    FILE *tty;
    int rc = -1;
    if (fd < 0) {
        fprintf(stderr,
                "%s: no terminal to ask for the %s; use --user, --password-fd and "
                "--pin-fd.\n",
                program_invocation_short_name, q->label ? q->label : "answer");
        return -1;
    }
    tty = fdopen(dup(fd), "w");
    if (!tty) {
        close(fd);
        return -1;
    }
    term_progress_done(t);
    if (q->title && *q->title && strcmp(q->title, t->last_title) != 0) {
        fprintf(tty, "%s\n", q->title);
        snprintf(t->last_title, sizeof t->last_title, "%s", q->title);
    }
    if (q->retry)
        fprintf(tty, "The previous answer was rejected; try again.\n");
    if (q->kind == TPS_ASK_NEW_PIN) {
        rc = ask_new_pin(fd, tty, q, out, cap);
    } else {
        char prompt[160];
        snprintf(prompt, sizeof prompt, "%s: ", q->label ? q->label : q->id);
        rc = read_line(fd, tty, prompt, q->kind == TPS_ASK_SECRET, out, cap);
        if (rc == 0 && !out[0])
            rc = -1;
    }
    fclose(tty);
    close(fd);
    return rc;
}

int term_read_fd_secret(int fd, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return -1;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) { /* an error is no end of line: what was read is not the secret */
            explicit_bzero(out, cap);
            return -1;
        }
        if (r == 0 || c == '\n')
            break;
        if (n + 1 >= cap || c == '\0') { /* too long, or a NUL would cut the secret short */
            explicit_bzero(out, cap);
            return -1;
        }
        out[n++] = c;
    }
    if (n && out[n - 1] == '\r')
        n--;
    out[n] = '\0';
    return n ? 0 : -1;
}
