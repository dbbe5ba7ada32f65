/* fuzz_escctl_args: escctl's option parsers on any argv, without running a command: the card
 * options of status/list/diag (escctl_parse_card_args), the options of phone-home and of the
 * operations (escctl_parse_op_args), --timeout (escctl_parse_timeout) and the operation names
 * (esc_op_parse); diag's, the card options with its own handed to the same parser
 * (diag_parse_args). Input: the arguments, one per line; the first byte picks the command.
 * Invariants: the exit code is one escctl documents; whatever is taken points into argv; the
 * timeout is in range; a descriptor is -1 or 0..65535. Usage text goes to /dev/null. */
#include "engine/agent_op.h"
#include "escctl/escctl.h"
#include "escctl/escctl_diag.h"
#include "escctl/escctl_ops.h"
#include "ops.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char buf[8192 + 1];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* the parsers print usage on stdio; sanitizer reports still reach fd 2 */
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        stdout = null;
        stderr = null;
    }
    return 0;
}

static void in_argv(const char *p)
{
    if (p && (p < buf || p > buf + sizeof buf - 1))
        abort(); /* a value always points into the caller's argv */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *cmds[] = {"status", "list",   "diag",  "phone-home",
                                 "enroll", "format", "renew", "reset-pin"};
    char *argv[MAX_ARGS + 1];
    int argc = 1;

    if (size < 1 || size >= sizeof buf)
        return 0;
    char cmd[16];
    snprintf(cmd, sizeof cmd, "%s", cmds[data[0] % (sizeof cmds / sizeof cmds[0])]);
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = 0;
    argv[0] = cmd;
    if (size > 1)
        for (char *p = buf; argc < MAX_ARGS;) {
            argv[argc++] = p;
            char *nl = strchr(p, '\n');
            if (!nl)
                break;
            *nl = 0;
            p = nl + 1;
        }
    argv[argc] = NULL;

    struct escctl_card_args ca;
    int rc = escctl_parse_card_args(argc, argv, ESCCTL_STATUS_USAGE, NULL, &ca);
    if (rc != -1 && rc != ESCCTL_EXIT_OK && rc != ESCCTL_EXIT_USAGE)
        abort();
    if (rc == -1) {
        in_argv(ca.reader);
        in_argv(ca.conf_path);
        if (ca.timeout_ms > ESCCTL_TIMEOUT_MAX_MS)
            abort();
    }

    struct diag_args da;
    rc = diag_parse_args(argc, argv, &da);
    if (rc != -1 && rc != ESCCTL_EXIT_OK && rc != ESCCTL_EXIT_USAGE)
        abort();
    if (rc == -1) {
        in_argv(da.reader);
        in_argv(da.conf_path);
        in_argv(da.user);
        in_argv(da.pam_module);
        in_argv(da.pam_dir);
        in_argv(da.pam_pkcs11_conf);
        in_argv(da.sssd_conf);
        if (da.timeout_ms > ESCCTL_TIMEOUT_MAX_MS || da.events > DIAG_EVENTS_MAX)
            abort();
        if (da.pam_module && strcmp(da.pam_module, "pam_pkcs11") != 0 &&
            strcmp(da.pam_module, "pam_sss") != 0)
            abort();
    }

    struct escctl_op_args oa;
    for (int ops = 0; ops < 2; ops++) {
        if (escctl_parse_op_args(argc, argv, ops, &oa) != 0)
            continue;
        in_argv(oa.conf);
        in_argv(oa.reader);
        in_argv(oa.url);
        in_argv(oa.user);
        in_argv(oa.token_type);
        if (oa.password_fd < -1 || oa.password_fd > 65535 || oa.pin_fd < -1 || oa.pin_fd > 65535)
            abort();
        if (!ops && (oa.user || oa.token_type || oa.quiet || oa.password_fd >= 0 || oa.pin_fd >= 0))
            abort(); /* phone-home takes no operation option */
        if (ops && oa.test)
            abort();
    }

    unsigned long t = 0;
    if (argc > 1) {
        rc = escctl_parse_timeout(cmd, argv[1], &t);
        if ((rc == ESCCTL_EXIT_OK && (t < 1 || t > ESCCTL_TIMEOUT_MAX_MS)) ||
            (rc != ESCCTL_EXIT_OK && rc != ESCCTL_EXIT_USAGE))
            abort();
        int op = esc_op_parse(argv[1]);
        if (op != -1 && (op < TPS_OP_ENROLL || op > TPS_OP_FORMAT))
            abort();
    }
    return 0;
}
