/* escctl log: the session daemon's event log (escctl_log.c). */
#ifndef ESC_ESCCTL_LOG_H
#define ESC_ESCCTL_LOG_H

#define ESCCTL_LOG_USAGE "[--json] [--follow] [--conf FILE]"

int escctl_cmd_log(int argc, char **argv);

#endif
