/* esc-session: the session daemon's watcher, started by `esc-agent --session` (exec, same
 * process): esc-session --agent PATH-OF-ESC-AGENT. See session/session.h. */
#include "session.h"

#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

int main(int argc, char **argv)
{
    /* as esc-agent: nothing it starts may gain privileges */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        perror("esc-session: no_new_privs");
        return 1;
    }
    if (argc != 3 || strcmp(argv[1], "--agent") != 0 || argv[2][0] != '/') {
        fprintf(stderr,
                "usage: esc-session --agent /path/to/esc-agent (run esc-agent --session)\n");
        return 2;
    }
    return session_main(argv[2]);
}
