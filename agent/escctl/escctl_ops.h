/* escctl_ops: escctl's card operations: phone-home, enroll, format, reset-pin, renew.
 *
 *   escctl phone-home ESCCTL_PH_USAGE
 *   escctl enroll|format|reset-pin|renew ESCCTL_OP_USAGE
 *
 * Each function takes the command's own argv (argv[0] = the command name) and returns the
 * process exit code below. esc.conf comes from $ESC_CONF or the default path (--conf FILE
 * overrides). Prompts go to /dev/tty (echo off for secrets, the new PIN twice); progress goes
 * to stderr (a bar on a TTY, plain lines otherwise); --json prints the result on stdout. */
#ifndef ESC_ESCCTL_OPS_H
#define ESC_ESCCTL_OPS_H

#include "esc_err.h"
#include "escctl.h"

/* Exit codes: 0..4 as in escctl.h (ok, fail, usage, conf, card), then: */
#define ESCCTL_EXIT_NET       5 /* TPS or phone-home server unreachable, TLS, timeout, protocol */
#define ESCCTL_EXIT_UNTRUSTED 6 /* host not in allowed_hosts, or http not allowed for it */
#define ESCCTL_EXIT_REFUSED   7 /* the TPS refused the operation (END_OP error) */
#define ESCCTL_EXIT_AUTH      8 /* the directory rejected the user ID or password */
#define ESCCTL_EXIT_CANCELLED 9 /* no answer to a prompt, or an unusable PIN */

/* The options each parser accepts, as every usage text prints them (ESCCTL_STATUS_USAGE in
 * escctl.h). */
#define ESCCTL_OP_USAGE                                                                            \
    "[--reader R] [--url PHONE_HOME_URL] [--refresh] [--token-type T] [--user ID] "                \
    "[--password-fd N] [--pin-fd N] [--json] [--quiet] [--conf FILE]"
#define ESCCTL_PH_USAGE "[--url URL] [--test] [--refresh] [--reader R] [--json] [--conf FILE]"

int escctl_exit_code(esc_err e);

/* The options of phone-home (ops false) and of the operations (ops true). */
struct escctl_op_args {
    const char *conf;
    const char *reader;
    const char *url;
    const char *user;
    const char *token_type;
    int password_fd, pin_fd; /* -1: none */
    bool refresh, test, json, quiet;
};
/* Parse argv (argv[0] = the command) into *o: 0 ok, -1 usage error (the usage printed). */
int escctl_parse_op_args(int argc, char **argv, bool ops, struct escctl_op_args *o);

struct esc_conf;
/* esc.conf for these commands (o->conf, else $ESC_CONF or the default): its error on stderr. */
esc_err escctl_load_conf(const struct escctl_op_args *o, struct esc_conf *c);

int escctl_cmd_phone_home(int argc, char **argv);
/* enroll, format, reset-pin, renew: the operation is taken from argv[0]; in this process when
 * the session agent does not run it. */
int escctl_cmd_operation(int argc, char **argv);

/* What escctl_operation_run has gathered when the session agent does not run the operation. */
struct term_ui;
struct escctl_op_here {
    const char *name; /* argv[0]: enroll, format, reset-pin or renew */
    int op;           /* esc_op_parse(name) */
    const struct escctl_op_args *o;
    const struct esc_conf *conf;
    const char *pw, *pin; /* read from --password-fd / --pin-fd, or NULL */
    struct term_ui *t;
};
/* Runs it and returns the exit code (the caller wipes pw and pin afterwards). */
typedef int (*escctl_op_fn)(const struct escctl_op_here *h);
/* escctl_cmd_operation with the engine part given: `here` runs the operation when the session
 * agent does not (escctl_agent.h: not there, or an option only the engine knows). */
int escctl_operation_run(int argc, char **argv, escctl_op_fn here);

#endif
