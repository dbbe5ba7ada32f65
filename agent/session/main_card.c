/* esc-card: the session daemon's worker for one inserted card, `esc-card --agent PATH READER`
 * (session.h): the card reported from its cached profile without the network, else esc-agent
 * --session-card READER in its place (exec). Installed beside esc-session. */
#include "session.h"

#include "conf.h"
#include "events.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    static struct esc_conf conf;

    /* as esc-agent: it handles the card's bytes; nothing it execs may gain privileges */
    (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (argc != 4 || strcmp(argv[1], "--agent") != 0 || argv[2][0] != '/' || !argv[3][0] ||
        strlen(argv[3]) >= 128) {
        fprintf(stderr, "usage: esc-card --agent /path/to/esc-agent READER (started by "
                        "esc-session)\n");
        return 2;
    }
    session_worker_init(&conf);
    switch (session_light(&conf, argv[3])) {
    case SESSION_LIGHT_DONE:
    case SESSION_LIGHT_GONE:
        return 0;
    case SESSION_LIGHT_FULL:
        break;
    }
    char *const args[] = {(char *)"esc-agent", (char *)"--session-card", argv[3], NULL};
    execv(argv[2], args);
    log_err("cannot run %s: %s", argv[2], strerror(errno));
    return 1;
}
