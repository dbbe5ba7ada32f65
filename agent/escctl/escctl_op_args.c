/* escctl_op_args: the command line of escctl's card operations and phone-home, their esc.conf
 * and their exit codes. Both escctl programs link it (the thin front as well: no engine here).
 * See escctl_ops.h. */
#include "escctl_ops.h"

#include "conf.h"
#include "log.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int escctl_exit_code(esc_err e)
{
    switch (e) {
    case ESC_OK:
        return ESCCTL_EXIT_OK;
    case ESC_ERR_CONF:
    case ESC_ERR_CONF_MISSING:
        return ESCCTL_EXIT_CONF;
    case ESC_ERR_UNTRUSTED_HOST:
        return ESCCTL_EXIT_UNTRUSTED;
    case ESC_ERR_NETWORK:
    case ESC_ERR_TLS:
    case ESC_ERR_SERVER:
    case ESC_ERR_PROTOCOL:
    case ESC_ERR_TIMEOUT:
    case ESC_ERR_TPS_TIMEOUT:
        return ESCCTL_EXIT_NET;
    case ESC_ERR_TPS_REFUSED:
        return ESCCTL_EXIT_REFUSED;
    case ESC_ERR_AUTH_FAILED:
        return ESCCTL_EXIT_AUTH;
    case ESC_ERR_CANCELLED:
    case ESC_ERR_ARG:
        return ESCCTL_EXIT_CANCELLED;
    default:
        break;
    }
    return esc_err_class(e) == ESC_CLASS_ABSENT || esc_err_class(e) == ESC_CLASS_CARD
               ? ESCCTL_EXIT_CARD
               : ESCCTL_EXIT_FAIL;
}

enum {
    O_CONF = 256,
    O_READER,
    O_URL,
    O_USER,
    O_PWFD,
    O_PINFD,
    O_REFRESH,
    O_TEST,
    O_JSON,
    O_QUIET,
    O_TTYPE
};

static int parse_fd(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end || v < 0 || v > 65535)
        return -1;
    *out = (int)v;
    return 0;
}

int escctl_parse_op_args(int argc, char **argv, bool ops, struct escctl_op_args *o)
{
    static const struct option lo[] = {
        {"conf", required_argument, NULL, O_CONF},
        {"reader", required_argument, NULL, O_READER},
        {"url", required_argument, NULL, O_URL},
        {"user", required_argument, NULL, O_USER},
        {"password-fd", required_argument, NULL, O_PWFD},
        {"pin-fd", required_argument, NULL, O_PINFD},
        {"refresh", no_argument, NULL, O_REFRESH},
        {"test", no_argument, NULL, O_TEST},
        {"json", no_argument, NULL, O_JSON},
        {"quiet", no_argument, NULL, O_QUIET},
        {"token-type", required_argument, NULL, O_TTYPE},
        {NULL, 0, NULL, 0},
    };
    int c;
    memset(o, 0, sizeof *o);
    o->password_fd = o->pin_fd = -1;
    optind = 0; /* GNU: restart scanning (argv may be a sub-command's) */
    opterr = 1;
    while ((c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
        switch (c) {
        case O_CONF:
            o->conf = optarg;
            break;
        case O_READER:
            o->reader = optarg;
            break;
        case O_URL:
            o->url = optarg;
            break;
        case O_REFRESH:
            o->refresh = true;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_QUIET: /* phone-home shows no progress to silence */
            if (!ops)
                goto bad;
            o->quiet = true;
            break;
        case O_TEST:
            if (ops)
                goto bad;
            o->test = true;
            break;
        case O_USER:
            if (!ops)
                goto bad;
            o->user = optarg;
            break;
        case O_TTYPE:
            if (!ops)
                goto bad;
            o->token_type = optarg;
            break;
        case O_PWFD:
        case O_PINFD:
            if (!ops || parse_fd(optarg, c == O_PWFD ? &o->password_fd : &o->pin_fd) < 0)
                goto bad;
            break;
        default:
            goto bad;
        }
    }
    if (optind != argc)
        goto bad;
    return 0;
bad:
    fprintf(stderr, "usage: escctl %s %s\n", argv[0], ops ? ESCCTL_OP_USAGE : ESCCTL_PH_USAGE);
    return -1;
}

esc_err escctl_load_conf(const struct escctl_op_args *o, struct esc_conf *c)
{
    char err[256] = "";
    esc_err e = conf_load(o->conf, c, err, sizeof err);
    if (e != ESC_OK)
        fprintf(stderr, "%s: %s\n", program_invocation_short_name, err[0] ? err : esc_strerror(e));
    else
        conf_apply_log_level(c); /* never quieter than -v asked */
    return e;
}
