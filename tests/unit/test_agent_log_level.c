/* test_agent_log_level: `esc-agent --pam` and `--pam-serve` log at esc.conf's log_level, never
 * quieter than pam_esc's debug option (ESC_PAM_DEBUG) asks, as escctl does with -v. */
#include "check.h"
#include "log.h"
#include "handoff/handoff.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static char conf_path[64];

/* Run esc-agent's PAM mode `mode` with esc.conf holding `conf` and ESC_PAM_DEBUG `dbg` (NULL:
 * unset); fd 0 is a socket whose peer is gone, so a --pam hand-off ends at once, and
 * XDG_RUNTIME_DIR is unset, so --pam-serve cannot listen. Returns the log level it set. */
static int level_after(const char *mode, const char *conf, const char *dbg)
{
    char *argv[] = {(char *)"esc-agent", (char *)mode, NULL};
    int sv[2], saved = dup(0);
    FILE *f = fopen(conf_path, "w");

    if (!f || saved < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return -1;
    fputs(conf, f);
    fclose(f);
    setenv("ESC_CONF", conf_path, 1);
    if (dbg)
        setenv("ESC_PAM_DEBUG", dbg, 1);
    else
        unsetenv("ESC_PAM_DEBUG");
    unsetenv("XDG_RUNTIME_DIR");
    close(sv[1]);
    dup2(sv[0], 0);
    close(sv[0]);
    esc_log_init("test", ESC_LOG_ERR, false); /* whatever was set before must not count */
    if (handoff_main(2, argv, handoff_run_engine) != 1)
        return -2; /* no hand-off was served: 1, not a usage error */
    dup2(saved, 0);
    close(saved);
    return esc_log_get_level();
}

static void test_pam_helper_uses_log_level(void)
{
    EXPECT_EQ(level_after("--pam", "log_level = info\n", NULL), ESC_LOG_INFO);
    EXPECT_EQ(level_after("--pam", "log_level = debug\n", NULL), ESC_LOG_DEBUG);
    EXPECT_EQ(level_after("--pam", "log_level = error\n", NULL), ESC_LOG_ERR);
    EXPECT_EQ(level_after("--pam", "# defaults\n", NULL), ESC_LOG_WARN);
}

static void test_pam_serve_uses_log_level(void)
{
    EXPECT_EQ(level_after("--pam-serve", "log_level = info\n", NULL), ESC_LOG_INFO);
    EXPECT_EQ(level_after("--pam-serve", "log_level = error\n", NULL), ESC_LOG_ERR);
}

static void test_debug_option_is_never_made_quieter(void)
{
    EXPECT_EQ(level_after("--pam", "log_level = error\n", "1"), ESC_LOG_DEBUG);
    EXPECT_EQ(level_after("--pam", "log_level = info\n", "stderr"), ESC_LOG_DEBUG);
    EXPECT_EQ(level_after("--pam-serve", "log_level = warn\n", "1"), ESC_LOG_DEBUG);
}

static void test_bad_conf_keeps_the_default(void)
{
    /* the helper still answers pam_esc (which says the file is not valid) */
    EXPECT_EQ(level_after("--pam", "log_level = info\nbogus = 1\n", NULL), ESC_LOG_WARN);
}

int main(void)
{
    int fd;
    snprintf(conf_path, sizeof conf_path, "/tmp/test_agent_log_level.XXXXXX");
    fd = mkstemp(conf_path);
    if (fd < 0)
        return 1;
    close(fd);
    RUN(test_pam_helper_uses_log_level);
    RUN(test_pam_serve_uses_log_level);
    RUN(test_debug_option_is_never_made_quieter);
    RUN(test_bad_conf_keeps_the_default);
    unlink(conf_path);
    return check_status();
}
