/* escctl: the command-line tool. main_escctl.c holds the command table; each command is a
 * handler `int cmd(int argc, char **argv)` (argv[0] = the command name) returning an exit
 * code below.
 *
 *   escctl [--conf FILE] [-v|--verbose] [--no-agent] COMMAND [ARGS...]
 *   (status, list and the operations go through the session agent when it runs, see
 *   escctl_agent.h; --no-agent or ESC_NO_AGENT=1 runs them in-process)
 *   escctl status ESCCTL_STATUS_USAGE   every reader: state and facts
 *   escctl list ESCCTL_STATUS_USAGE     every reader: state and CUID
 *   escctl help [COMMAND]
 *
 * Exit codes (the card-operation commands of escctl_ops.h use the same numbers):
 *   0  success; for status/list: every card found could be read (any card state,
 *      including NO_APPLET, UNINITIALIZED, PIN_LOCKED, EXPIRED)
 *   1  another failure (internal, I/O)
 *   2  bad command line (unknown command or option): usage on stderr
 *   3  esc.conf unusable (the error names file:line)
 *   4  no pcscd / no reader / no card, or the card failed (answered garbage, too short,
 *      too long, was pulled mid-command, or did not answer in time)
 *   5..9  network, untrusted host, TPS refused, authentication, cancelled (escctl_ops.h) */
#ifndef ESC_ESCCTL_H
#define ESC_ESCCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#define ESCCTL_EXIT_OK    0
#define ESCCTL_EXIT_FAIL  1
#define ESCCTL_EXIT_USAGE 2
#define ESCCTL_EXIT_CONF  3
#define ESCCTL_EXIT_CARD  4

/* The options of status and list, as every usage text prints them: `escctl help CMD` and the
 * parser's own usage (tests/checks/docs.sh holds the usage texts and the man pages to what the
 * parsers accept; the other commands' are in escctl_ops.h). */
#define ESCCTL_STATUS_USAGE "[--json] [--reader NAME] [--timeout MS] [--conf FILE]"

#define ESCCTL_TIMEOUT_MAX_MS 600000UL

/* --timeout MS of status, list, certs and diag: 1..ESCCTL_TIMEOUT_MAX_MS into *out and
 * ESCCTL_EXIT_OK, else a one-line error on stderr and ESCCTL_EXIT_USAGE. */
int escctl_parse_timeout(const char *cmd, const char *arg, unsigned long *out);

/* The options of status, list and diag: --json --reader --timeout --conf --help. */
struct escctl_card_args {
    bool json;
    const char *reader;       /* NULL: esc.conf's */
    const char *conf_path;    /* NULL: the default esc.conf */
    unsigned long timeout_ms; /* 0: the command's default */
};
/* The options a command takes beside those (escctl diag's): getopt_long entries (at most
 * ESCCTL_MORE_OPTS_MAX, each with a `val` other than j r t c h), and `take`, called with an
 * option's val and its argument (NULL for none): ESCCTL_EXIT_OK, or ESCCTL_EXIT_USAGE after
 * it said why on stderr. */
#define ESCCTL_MORE_OPTS_MAX 16
struct escctl_more_opts {
    const struct option *opts; /* ends with {NULL, 0, NULL, 0} */
    int (*take)(void *ctx, int val, const char *arg);
    void *ctx;
};
/* Parse argv (argv[0] = the command), with `more` options when not NULL. -1: go on with *a;
 * otherwise the exit code to return (--help printed the usage; a bad option or argument
 * printed an error and the usage). */
int escctl_parse_card_args(int argc, char **argv, const char *usage,
                           const struct escctl_more_opts *more, struct escctl_card_args *a);

/* escctl status (full: every fact) / escctl list (full false: state and CUID). The session
 * agent probes when there is one (escctl_agent.h); otherwise `probe_here` does, in this
 * process (probe_all) or in escctl-local (the thin escctl's escctl_local_probe, which never
 * returns). */
struct probe_opts;
struct probe_facts;
typedef size_t (*escctl_probe_fn)(const struct probe_opts *o, struct probe_facts *f, size_t max);
int escctl_status_run(int argc, char **argv, bool full, escctl_probe_fn probe_here);

#endif
