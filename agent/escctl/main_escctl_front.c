/* escctl: the thin front (escctl_local.h says why). It reads the options before the command as
 * escctl-local does (escctl_globals.h), runs status, list, enroll, format, reset-pin and renew
 * through the session agent itself (escctl_agent.h: the same code as escctl-local's, so the
 * same output and exit codes), and hands everything else to escctl-local by exec with the same
 * argv: another command, help, --version, a bad command line before the command, --no-agent or
 * ESC_NO_AGENT=1, and a served command the agent does not serve after all (no agent, or an
 * option only the engine knows), which escctl-local then runs in-process at once. */
#include "escctl.h"
#include "escctl_agent.h"
#include "escctl_globals.h"
#include "escctl_local.h"
#include "escctl_ops.h"

#include "log.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static int status(int argc, char **argv)
{
    return escctl_status_run(argc, argv, true, escctl_local_probe);
}
static int list(int argc, char **argv)
{
    return escctl_status_run(argc, argv, false, escctl_local_probe);
}
static int operation(int argc, char **argv)
{
    return escctl_operation_run(argc, argv, escctl_local_op);
}

/* The commands the session agent serves, by main_escctl.c's names. */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} served[] = {
    {"status", status},    {"list", list},           {"enroll", operation},
    {"format", operation}, {"reset-pin", operation}, {"renew", operation},
};

int main(int argc, char **argv)
{
    const char *no = getenv("ESC_NO_AGENT");
    struct escctl_globals g;

    escctl_local_argv = argv;
    if (escctl_parse_globals(argc, argv, &g) != ESCCTL_GLOBALS_COMMAND || g.no_agent ||
        (no && strcmp(no, "1") == 0))
        return escctl_local_exec(false);
    for (size_t i = 0; i < sizeof served / sizeof served[0]; i++) {
        if (strcmp(argv[g.cmd], served[i].name) != 0)
            continue;
        signal(SIGPIPE, SIG_IGN);
        escctl_agent_enabled = true;
        esc_log_init("escctl", g.level, false);
        return served[i].run(argc - g.cmd, argv + g.cmd);
    }
    return escctl_local_exec(false);
}
