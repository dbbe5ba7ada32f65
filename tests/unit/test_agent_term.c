/* test_agent_term: what escctl shows and reads without a terminal: plain progress lines (one
 * per change) when stderr is not a TTY, readable task labels, secrets read from a file
 * descriptor for scripts, and no prompt possible without /dev/tty. */
#include "check.h"
#include "escctl/term.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_task_label(void)
{
    char out[64];
    tps_task_label("PROGRESS_KEY_GENERATION", out, sizeof out);
    EXPECT_STR(out, "key generation");
    tps_task_label(NULL, out, sizeof out);
    EXPECT_STR(out, "");
    tps_task_label("Evil\x1b[2Jlabel", out, sizeof out);
    EXPECT(strchr(out, '\x1b') == NULL); /* no terminal escapes from the TPS */
}

static void test_plain_progress_lines(void)
{
    struct term_ui t;
    char path[] = "/tmp/test_term_XXXXXX";
    int fd = mkstemp(path);
    EXPECT(fd >= 0);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    term_ui_init(&t, false);
    term_progress(&t, 10, "PROGRESS_PROCESS_PROFILE");
    term_progress(&t, 10, "PROGRESS_PROCESS_PROFILE");
    term_progress(&t, 100, "PROGRESS_DONE_ENROLLMENT");
    term_progress_done(&t);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char buf[512] = "";
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unlink(path);
    EXPECT(n > 0);
    EXPECT_STR(buf, "progress: 10% process profile\nprogress: 100% done enrollment\n");
}

static void test_quiet(void)
{
    struct term_ui t;
    term_ui_init(&t, true);
    term_progress(&t, 50, "X"); /* must print nothing and not crash */
    EXPECT_EQ(t.last_pct, -1);
}

static void test_read_fd_secret(void)
{
    int p[2];
    char out[16];
    EXPECT_EQ(pipe(p), 0);
    EXPECT_EQ(write(p[1], "s3cret\nnext", 11), 11);
    close(p[1]);
    EXPECT_EQ(term_read_fd_secret(p[0], out, sizeof out), 0);
    EXPECT_STR(out, "s3cret");
    close(p[0]);
    EXPECT_EQ(pipe(p), 0);
    EXPECT_EQ(write(p[1], "0123456789abcdefXYZ", 19), 19); /* longer than the buffer */
    close(p[1]);
    EXPECT_EQ(term_read_fd_secret(p[0], out, sizeof out), -1);
    close(p[0]);
    EXPECT_EQ(pipe(p), 0);
    close(p[1]); /* empty */
    EXPECT_EQ(term_read_fd_secret(p[0], out, sizeof out), -1);
    close(p[0]);
    EXPECT_EQ(pipe(p), 0);
    EXPECT_EQ(write(p[1], "\0\n", 2), 2); /* a NUL byte would leave an empty PIN */
    close(p[1]);
    EXPECT_EQ(term_read_fd_secret(p[0], out, sizeof out), -1);
    close(p[0]);
}

static void test_no_tty_no_prompt(void)
{
    struct term_ui t;
    struct tps_ask q = {.kind = TPS_ASK_SECRET, .id = "PASSWORD", .label = "LDAP Password"};
    char out[32];
    pid_t pid = fork();
    if (pid == 0) {
        setsid(); /* no controlling terminal: /dev/tty cannot be opened */
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, STDERR_FILENO);
        term_ui_init(&t, true);
        _exit(term_ask(&t, &q, out, sizeof out) == -1 ? 0 : 1);
    }
    int st;
    EXPECT(waitpid(pid, &st, 0) == pid);
    EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
    RUN(test_task_label);
    RUN(test_plain_progress_lines);
    RUN(test_quiet);
    RUN(test_read_fd_secret);
    RUN(test_no_tty_no_prompt);
    return check_status();
}
