/* escctl_args: option values several escctl commands share. See escctl.h. */
#include "escctl.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

int escctl_parse_timeout(const char *cmd, const char *arg, unsigned long *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || v == 0 || v > ESCCTL_TIMEOUT_MAX_MS) {
        fprintf(stderr, "escctl %s: --timeout needs milliseconds, 1..%lu\n", cmd,
                (unsigned long)ESCCTL_TIMEOUT_MAX_MS);
        return ESCCTL_EXIT_USAGE;
    }
    *out = v;
    return ESCCTL_EXIT_OK;
}

/* The shared options, then `more`'s: one getopt_long table. 0, or -1 when `more` has too many. */
static int options(const struct escctl_more_opts *more, struct option *all, size_t cap)
{
    static const struct option shared[] = {{"json", no_argument, NULL, 'j'},
                                           {"reader", required_argument, NULL, 'r'},
                                           {"timeout", required_argument, NULL, 't'},
                                           {"conf", required_argument, NULL, 'c'},
                                           {"help", no_argument, NULL, 'h'}};
    size_t n = 0;
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++)
        all[n++] = shared[i];
    for (const struct option *o = more ? more->opts : NULL; o && o->name; o++) {
        if (n + 1 >= cap)
            return -1;
        all[n++] = *o;
    }
    all[n] = (struct option){NULL, 0, NULL, 0};
    return 0;
}

int escctl_parse_card_args(int argc, char **argv, const char *usage,
                           const struct escctl_more_opts *more, struct escctl_card_args *a)
{
    struct option longopts[5 + ESCCTL_MORE_OPTS_MAX + 1];
    const char *bad = NULL, *what = NULL;
    int c;

    *a = (struct escctl_card_args){0};
    if (options(more, longopts, sizeof longopts / sizeof longopts[0]) < 0)
        return ESCCTL_EXIT_FAIL; /* a programming error: caught by the tests */
    optind = 0;                  /* GNU: restart scanning (argv is the sub-command's) */
    opterr = 0;
    while (!bad && (c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            a->json = true;
            break;
        case 'r':
            a->reader = optarg;
            break;
        case 't':
            if (escctl_parse_timeout(argv[0], optarg, &a->timeout_ms) != ESCCTL_EXIT_OK)
                return ESCCTL_EXIT_USAGE;
            break;
        case 'c':
            a->conf_path = optarg;
            break;
        case 'h':
            printf("usage: escctl %s %s\n", argv[0], usage);
            return ESCCTL_EXIT_OK;
        case '?':
            what = "unknown option";
            bad = argv[optind - 1];
            break;
        default: /* one of more's */
            if (!more || more->take(more->ctx, c, optarg) != ESCCTL_EXIT_OK)
                return ESCCTL_EXIT_USAGE;
        }
    }
    if (!bad && optind < argc) {
        what = "unexpected argument";
        bad = argv[optind];
    }
    if (!bad)
        return -1;
    fprintf(stderr, "escctl %s: %s '%s'\nusage: escctl %s %s\n", argv[0], what, bad, argv[0],
            usage);
    return ESCCTL_EXIT_USAGE;
}
