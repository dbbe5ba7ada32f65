/* escctl diag: its command line (escctl_diag.h ESCCTL_DIAG_USAGE). The options of status and
 * list (escctl_parse_card_args), plus the report's and the login check's, handed to it. */
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

/* diag's own options (escctl_parse_card_args takes the shared ones) */
static int take(void *ctx, int val, const char *arg)
{
    struct diag_args *a = ctx;
    switch (val) {
    case 'e':
        return parse_events(arg, &a->events);
    case 'u':
        if (!*arg || strlen(arg) >= sizeof((struct diag_login *)0)->user)
            return usage_error("bad user name", arg);
        a->user = arg;
        break;
    case 'm':
        if (strcmp(arg, "pam_pkcs11") != 0 && strcmp(arg, "pam_sss") != 0)
            return usage_error("--pam-module takes pam_pkcs11 or pam_sss, not", arg);
        a->pam_module = arg;
        break;
    case 'd':
        a->pam_dir = arg;
        break;
    case 'p':
        a->pam_pkcs11_conf = arg;
        break;
    case 's':
        a->sssd_conf = arg;
        break;
    case 'i':
        a->import_ca = true;
        break;
    default:
        return usage_error("unknown option", "?");
    }
    return ESCCTL_EXIT_OK;
}

int diag_parse_args(int argc, char **argv, struct diag_args *a)
{
    static const struct option longopts[] = {{"events", required_argument, NULL, 'e'},
                                             {"user", required_argument, NULL, 'u'},
                                             {"pam-module", required_argument, NULL, 'm'},
                                             {"pam-dir", required_argument, NULL, 'd'},
                                             {"pam-pkcs11-conf", required_argument, NULL, 'p'},
                                             {"sssd-conf", required_argument, NULL, 's'},
                                             {"import-ca", no_argument, NULL, 'i'},
                                             {NULL, 0, NULL, 0}};
    struct escctl_more_opts more = {.opts = longopts, .take = take, .ctx = a};
    struct escctl_card_args ca;

    *a = (struct diag_args){.events = DIAG_EVENTS_DEFAULT};
    int rc = escctl_parse_card_args(argc, argv, ESCCTL_DIAG_USAGE, &more, &ca);
    a->json = ca.json;
    a->reader = ca.reader;
    a->timeout_ms = ca.timeout_ms;
    a->conf_path = ca.conf_path;
    return rc;
}
