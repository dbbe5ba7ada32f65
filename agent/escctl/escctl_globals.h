/* escctl_globals: escctl's options before the command, as both escctl programs read them (the
 * thin front, main_escctl_front.c, and the full one, main_escctl.c: the same argv, the same
 * outcome).
 *
 *   escctl [--conf FILE] [-v|--verbose] [--no-agent] COMMAND [ARGS...]
 *   escctl -h|--help | --version */
#ifndef ESC_ESCCTL_GLOBALS_H
#define ESC_ESCCTL_GLOBALS_H

#include <stdbool.h>

enum escctl_globals_end {
    ESCCTL_GLOBALS_COMMAND, /* argv[cmd] is the command */
    ESCCTL_GLOBALS_NONE,    /* no command after the options */
    ESCCTL_GLOBALS_HELP,    /* -h / --help */
    ESCCTL_GLOBALS_VERSION, /* --version */
    ESCCTL_GLOBALS_BAD,     /* argv[cmd] is an unknown option */
};

struct escctl_globals {
    int level;     /* log level: ESC_LOG_WARN, one more per -v */
    bool no_agent; /* --no-agent */
    int cmd;       /* see enum escctl_globals_end */
};

/* Read the options before the command; --conf FILE sets $ESC_CONF (every command reads
 * esc.conf through conf_load). Prints nothing. */
enum escctl_globals_end escctl_parse_globals(int argc, char **argv, struct escctl_globals *g);

#endif
