/* escctl diag: its command line (escctl_diag.h ESCCTL_DIAG_USAGE). The options of status and
 * list, plus the report's and the login check's. */
#include "escctl.h"
#include "escctl_diag.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage_error(const char *what, const char *bad)
{
    fprintf(stderr, "escctl diag: %s '%s'\nusage: escctl diag %s\n", what, bad, ESCCTL_DIAG_USAGE);
    return ESCCTL_EXIT_USAGE;
}

static int parse_events(const char *arg, unsigned *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || v > DIAG_EVENTS_MAX) {
        fprintf(stderr, "escctl diag: --events needs a number of events, 0..%d\n", DIAG_EVENTS_MAX);
        return ESCCTL_EXIT_USAGE;
    }
    *out = (unsigned)v;
    return ESCCTL_EXIT_OK;
}

int diag_parse_args(int argc, char **argv, struct diag_args *a)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                             {"reader", required_argument, NULL, 'r'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {"conf", required_argument, NULL, 'c'},
                                             {"events", required_argument, NULL, 'e'},
                                             {"user", required_argument, NULL, 'u'},
                                             {"pam-module", required_argument, NULL, 'm'},
                                             {"pam-dir", required_argument, NULL, 'd'},
                                             {"pam-pkcs11-conf", required_argument, NULL, 'p'},
                                             {"sssd-conf", required_argument, NULL, 's'},
                                             {"import-ca", no_argument, NULL, 'i'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;

    *a = (struct diag_args){.events = DIAG_EVENTS_DEFAULT};
    optind = 0; /* GNU: restart scanning (argv is the sub-command's) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            a->json = true;
            break;
        case 'r':
            a->reader = optarg;
            break;
        case 't':
            if (escctl_parse_timeout("diag", optarg, &a->timeout_ms) != ESCCTL_EXIT_OK)
                return ESCCTL_EXIT_USAGE;
            break;
        case 'c':
            a->conf_path = optarg;
            break;
        case 'e':
            if (parse_events(optarg, &a->events) != ESCCTL_EXIT_OK)
                return ESCCTL_EXIT_USAGE;
            break;
        case 'u':
            if (!*optarg || strlen(optarg) >= sizeof((struct diag_login *)0)->user)
                return usage_error("bad user name", optarg);
            a->user = optarg;
            break;
        case 'm':
            if (strcmp(optarg, "pam_pkcs11") != 0 && strcmp(optarg, "pam_sss") != 0)
                return usage_error("--pam-module takes pam_pkcs11 or pam_sss, not", optarg);
            a->pam_module = optarg;
            break;
        case 'd':
            a->pam_dir = optarg;
            break;
        case 'p':
            a->pam_pkcs11_conf = optarg;
            break;
        case 's':
            a->sssd_conf = optarg;
            break;
        case 'i':
            a->import_ca = true;
            break;
        case 'h':
            printf("usage: escctl diag %s\n", ESCCTL_DIAG_USAGE);
            return ESCCTL_EXIT_OK;
        default:
            return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    return -1;
}
