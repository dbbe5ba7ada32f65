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

int escctl_parse_card_args(int argc, char **argv, const char *usage, struct escctl_card_args *a)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},          {"reader", required_argument, NULL, 'r'},
        {"timeout", required_argument, NULL, 't'}, {"conf", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    const char *bad = NULL, *what = NULL;
    int c;

    *a = (struct escctl_card_args){0};
    optind = 0; /* GNU: restart scanning (argv is the sub-command's) */
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
        default:
            what = "unknown option";
            bad = argv[optind - 1];
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
