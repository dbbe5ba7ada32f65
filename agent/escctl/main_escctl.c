/* escctl-local: the full escctl, every command in-process or through the session agent. One line
 * per command in `commands`; see escctl.h for exit codes. Installed as
 * $(LIBEXECDIR)/escctl-local and run by escctl, the thin front (main_escctl_front.c,
 * escctl_local.h), with the argv escctl was given; run directly it is the escctl of old. */
#include "escctl.h"
#include "escctl_certs.h"
#include "escctl_agent.h"
#include "escctl_diag.h"
#include "escctl_globals.h"
#include "escctl_log.h"
#include "escctl_ops.h"

#include "log.h"
#include "probe.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ESC_VERSION
#define ESC_VERSION "unknown"
#endif

static int cmd_help(int argc, char **argv);

static int cmd_status(int argc, char **argv)
{
    return escctl_status_run(argc, argv, true, probe_all);
}
static int cmd_list(int argc, char **argv)
{
    return escctl_status_run(argc, argv, false, probe_all);
}

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *args; /* the options its parser accepts (escctl.h, escctl_ops.h) */
    const char *help; /* what it does; the first line is the summary */
};

static const struct command commands[] = {
    {"status", cmd_status, ESCCTL_STATUS_USAGE,
     "Probe every reader: state, CUID, applet version, life cycle, PIN tries\n"
     "  left, certificates, phone-home URL, ATR. Never spends a PIN try."},
    {"list", cmd_list, ESCCTL_STATUS_USAGE, "One short line per reader: state and CUID."},
    {"certs", escctl_cmd_certs, ESCCTL_CERTS_USAGE,
     "The certificates on the card, decoded with NSS: subject, issuer, serial,\n"
     "  validity (expired or days left), key, key usage, SHA-256 fingerprint.\n"
     "  --pem exports them as PEM. Never sends a PIN."},
    {"phone-home", escctl_cmd_phone_home, ESCCTL_PH_USAGE,
     "Show the card's Phone Home profile (cached, else fetched).\n"
     "  --test fetches without caching, --refresh fetches anew, --url overrides the card's\n"
     "  and esc.conf's URL."},
    {"enroll", escctl_cmd_operation, ESCCTL_OP_USAGE,
     "Enroll the card with the TPS (a blank card gets the applet first)."},
    {"format", escctl_cmd_operation, ESCCTL_OP_USAGE,
     "Format the card with the TPS: certificates and keys removed."},
    {"reset-pin", escctl_cmd_operation, ESCCTL_OP_USAGE,
     "Reset (unblock) the card's PIN with the TPS."},
    {"renew", escctl_cmd_operation, ESCCTL_OP_USAGE, "Renew the card's certificates with the TPS."},
    {"diag", escctl_cmd_diag, ESCCTL_DIAG_USAGE,
     "Why does the card not work? Checks esc.conf, pcscd, reader, card, phone home, TPS.\n"
     "  Each check is ok, a problem (what is wrong, what to do) or skipped after one."},
    {"log", escctl_cmd_log, ESCCTL_LOG_USAGE,
     "The session daemon's card events: time, reader, event, detail.\n"
     "  --json prints the JSON lines as written; --follow waits for new ones."},
    {"help", cmd_help, "[COMMAND]", "Show the commands, or the options of one."},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: escctl [--conf FILE] [-v|--verbose] [--no-agent] COMMAND [ARGS...]\n"
               "       escctl -h|--help | --version\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const char *d = commands[i].help;
        fprintf(f, "  %-11s %.*s\n", commands[i].name, (int)strcspn(d, "\n"), d);
    }
    fprintf(f,
            "\n`escctl help COMMAND` shows a command's options. --conf FILE (or $ESC_CONF) selects "
            "esc.conf.\nstatus, list and the operations go through the session agent when it "
            "runs;\n--no-agent (or ESC_NO_AGENT=1) runs them here.\n");
}

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int cmd_help(int argc, char **argv)
{
    const struct command *c;
    if (argc < 2) {
        usage(stdout);
        return ESCCTL_EXIT_OK;
    }
    c = find(argv[1]);
    if (!c) {
        fprintf(stderr, "escctl: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return ESCCTL_EXIT_USAGE;
    }
    printf("usage: escctl %s %s\n  %s\n", c->name, c->args, c->help);
    return ESCCTL_EXIT_OK;
}

int main(int argc, char **argv)
{
    const struct command *c;
    struct escctl_globals g;
    enum escctl_globals_end end = escctl_parse_globals(argc, argv, &g);

    signal(SIGPIPE, SIG_IGN);
    /* through the session agent unless --no-agent, or unless the thin escctl tried it already
     * (it then sets ESC_NO_AGENT=1, escctl_local.h) */
    escctl_agent_enabled = !g.no_agent;
    switch (end) {
    case ESCCTL_GLOBALS_HELP:
        usage(stdout);
        return ESCCTL_EXIT_OK;
    case ESCCTL_GLOBALS_VERSION:
        printf("escctl %s\n", ESC_VERSION);
        return ESCCTL_EXIT_OK;
    case ESCCTL_GLOBALS_BAD:
        fprintf(stderr, "escctl: unknown option '%s'\n", argv[g.cmd]);
        usage(stderr);
        return ESCCTL_EXIT_USAGE;
    case ESCCTL_GLOBALS_NONE:
        esc_log_init("escctl", g.level, false);
        usage(stderr);
        return ESCCTL_EXIT_USAGE;
    case ESCCTL_GLOBALS_COMMAND:
        break;
    }
    esc_log_init("escctl", g.level, false);
    c = find(argv[g.cmd]);
    if (!c) {
        fprintf(stderr, "escctl: unknown command '%s'\n", argv[g.cmd]);
        usage(stderr);
        return ESCCTL_EXIT_USAGE;
    }
    return c->run(argc - g.cmd, argv + g.cmd);
}
