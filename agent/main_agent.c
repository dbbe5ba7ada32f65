/* esc-agent: the agent's modes.
 *
 *   esc-agent --pam | --pam-serve     the pam_esc hand-off server (handoff/handoff.h), running
 *                                     the operation engine for each REQUEST
 *   esc-agent --op enroll|format|reset-pin|renew ESCCTL_OP_USAGE (escctl/escctl_ops.h)
 *                                     one card operation from a terminal, as escctl runs it;
 *                                     the exit code is escctl's */
#include "escctl/escctl_ops.h"
#include "log.h"
#include "handoff/handoff.h"

#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <string.h>

static void usage(void)
{
    fprintf(stderr, "usage: esc-agent --op enroll|format|reset-pin|renew " ESCCTL_OP_USAGE "\n"
                    "       esc-agent --pam | --pam-serve\n"
                    "       esc-agent -h|--help\n");
}

int main(int argc, char **argv)
{
    char *args[64];
    int n = 0;
    const char *op = NULL;

    /* Every mode handles a hostile server's bytes and the user's secrets: nothing it execs
     * (or is tricked into execing) may gain privileges. pam_esc sets it before exec as well. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        perror("esc-agent: no_new_privs");
        return ESCCTL_EXIT_FAIL;
    }
    if (argc > 1 && strncmp(argv[1], "--pam", 5) == 0) /* the pam_esc hand-off */
        return handoff_main(argc, argv, handoff_run_engine);
    esc_log_init("esc-agent", ESC_LOG_WARN, false);
    signal(SIGPIPE, SIG_IGN);
    /* pull "--op NAME" out; the rest are the operation's own options */
    args[n++] = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--op") == 0 && i + 1 < argc) {
            op = argv[++i];
        } else if (strncmp(argv[i], "--op=", 5) == 0) {
            op = argv[i] + 5;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return ESCCTL_EXIT_OK;
        } else if (n < (int)(sizeof args / sizeof args[0]) - 1) {
            args[n++] = argv[i];
        } else {
            usage();
            return ESCCTL_EXIT_USAGE;
        }
    }
    if (!op) {
        usage();
        return ESCCTL_EXIT_USAGE;
    }
    args[0] = (char *)op;
    args[n] = NULL;
    return escctl_cmd_operation(n, args);
}
