/* escctl_globals: the options before escctl's command. See escctl_globals.h. */
#include "escctl_globals.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

enum escctl_globals_end escctl_parse_globals(int argc, char **argv, struct escctl_globals *g)
{
    int i = 1;

    *g = (struct escctl_globals){.level = ESC_LOG_WARN};
    while (i < argc && argv[i][0] == '-') {
        g->cmd = i;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return ESCCTL_GLOBALS_HELP;
        } else if (strcmp(argv[i], "--version") == 0) {
            return ESCCTL_GLOBALS_VERSION;
        } else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            g->level++;
            i++;
        } else if (strcmp(argv[i], "--no-agent") == 0) {
            g->no_agent = true; /* in-process, even with a session agent running */
            i++;
        } else if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc) {
            setenv("ESC_CONF", argv[i + 1], 1);
            i += 2;
        } else if (strncmp(argv[i], "--conf=", 7) == 0) {
            setenv("ESC_CONF", argv[i] + 7, 1);
            i++;
        } else {
            return ESCCTL_GLOBALS_BAD;
        }
    }
    g->cmd = i;
    return i < argc ? ESCCTL_GLOBALS_COMMAND : ESCCTL_GLOBALS_NONE;
}
