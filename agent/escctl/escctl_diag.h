/* escctl_diag: `escctl diag`, why a card does not work, in one command.
 *
 *   escctl diag ESCCTL_DIAG_USAGE
 *
 * A fixed list of checks in the order a support person goes through them; each ends ok,
 * problem (one sentence: what is wrong and what to do) or skipped. The first problem stops the
 * checks after it (each depends on the ones before), and its exit code (escctl.h,
 * escctl_ops.h) is the command's:
 *   conf            esc.conf readable and valid (the error names file:line)          3
 *   pcscd           pcscd reachable: not running / not answering                    4
 *   reader          readers present (listed), a card in the chosen one              4
 *   card            the probe's state, PIN tries left, applet version, CUID         4
 *   phone_home_url  a phone-home URL known (card, esc.conf, cache); profile cached  3
 *   trust           phone-home (and cached TPS) host allowed, before any network    6
 *   phone_home      the phone-home server answers a valid ServiceInfo              5
 *   tps             the TPS: TCP connect and TLS handshake with a verified
 *                   certificate (libcurl CONNECT_ONLY: no request, no operation)  5 (6)
 *   login           the stack's auth module will accept the card for the user:    3
 *                   pam_pkcs11 (ca_dir trusts the issuer, a mapper maps the
 *                   certificate to the user) or pam_sss (CA db, certmap rule);
 *                   escctl_diag_login.c
 * No secret is read or printed: no PIN is sent (the probe never spends a try).
 *
 * After the checks, the report (escctl_diag_report.c), the facts of ESC's diagnostics report
 * (reference/peers.md A.7) as fields: client version, cards, per card its probe facts, its
 * Phone Home profile and its certificates (escctl certs' decoder), the last events of the
 * event log. --import-ca (root only) installs the CA chain Phone Home names (<CAChainUI>). */
#ifndef ESC_ESCCTL_DIAG_H
#define ESC_ESCCTL_DIAG_H

#include "conf.h"
#include "engine/phone_home.h"
#include "engine/trust.h"
#include "escctl_certs.h"
#include "probe.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define PATH_MAX_DIAG 4096

#define ESCCTL_DIAG_USAGE                                                                          \
    "[--reader R] [--json] [--timeout MS] [--conf FILE] [--events N] [--user NAME]\n"              \
    "         [--pam-module pam_pkcs11|pam_sss] [--pam-dir DIR] [--pam-pkcs11-conf FILE]\n"        \
    "         [--sssd-conf FILE] [--import-ca]"

#define DIAG_EVENTS_DEFAULT 20
#define DIAG_EVENTS_MAX     200

int escctl_cmd_diag(int argc, char **argv);

/* ---- shared by escctl_diag.c (local checks) and escctl_diag_net.c (network checks) ---- */

enum diag_result { DIAG_OK, DIAG_PROBLEM, DIAG_SKIPPED };

#define DIAG_NCHECKS    9
#define DIAG_DETAIL_MAX 640

struct diag_check {
    const char *name;
    enum diag_result result;
    int code; /* escctl exit code of a problem */
    char detail[DIAG_DETAIL_MAX];
};

/* The command line (escctl_diag_args.c). */
struct diag_args {
    bool json, import_ca;
    const char *reader, *conf_path;
    unsigned long timeout_ms;                /* 0: the default */
    unsigned events;                         /* last N events in the report */
    const char *user;                        /* NULL: the user running escctl */
    const char *pam_module;                  /* NULL: detected from pam_dir */
    const char *pam_dir;                     /* NULL: /etc/pam.d */
    const char *pam_pkcs11_conf, *sssd_conf; /* NULL: the system's */
};
/* -1: go on; else the exit code (usage printed). */
int diag_parse_args(int argc, char **argv, struct diag_args *a);

/* What the login check found, for the report's "login" object. */
struct diag_login {
    bool ran;
    char module[16];                 /* "pam_pkcs11", "pam_sss" or "" */
    char module_from[PATH_MAX_DIAG]; /* the PAM file that names it, or "--pam-module" */
    char user[64];
    char config[PATH_MAX_DIAG];   /* pam_pkcs11.conf or sssd.conf */
    char ca_store[PATH_MAX_DIAG]; /* ca_dir or the CA db file */
    int issuer_trusted;           /* 1 yes, 0 no, -1 not checked */
    char mapper[64];              /* the mapper / certmap rule that maps the user, or "" */
    char not_checked[256];        /* mappers / rule parts escctl does not evaluate */
};

struct diag {
    const struct diag_args *args;
    struct diag_check checks[DIAG_NCHECKS];
    size_t n;
    /* what the earlier checks found, for the later ones */
    struct esc_conf conf;
    struct trust_policy trust; /* conf's, built once when check 1 read it */
    struct probe_facts facts;
    unsigned card_timeout_ms; /* pcscd, readers, probe */
    long net_timeout_ms;      /* each network request */
    char ph_url[PH_URL_MAX];  /* the phone-home URL check 5 chose */
    char cache_dir[CONF_VALUE_MAX + 32];
    struct ph_profile cached; /* valid when have_cached */
    bool have_cached;
    struct ph_profile fetched; /* check 7's answer */
    bool have_fetched;
    char reader[256];        /* the reader check 3 chose */
    struct certs_card certs; /* the chosen card's certificates (check 9); certs_card_free */
    bool have_certs, certs_read_tried;
    struct diag_login login;
};

/* Record the outcome of check `name`; returns result == DIAG_OK (so checks chain with &&). */
bool diag_add(struct diag *d, const char *name, enum diag_result result, int code, const char *fmt,
              ...) __attribute__((format(printf, 5, 6)));

/* Checks 5..8 (escctl_diag_net.c); each returns true when ok. */
bool diag_check_ph_url(struct diag *d);
bool diag_check_trust(struct diag *d);
bool diag_check_phone_home(struct diag *d);
bool diag_check_tps(struct diag *d);
/* Check 9 (escctl_diag_login.c); with args->import_ca the CA chain is imported first. */
bool diag_check_login(struct diag *d);

/* The report (escctl_diag_report.c): gathered after the checks, printed after them. */
void diag_report_json(struct diag *d, FILE *f);
void diag_report_text(struct diag *d, FILE *f);

/* JSON string (control bytes escaped, invalid UTF-8 as U+FFFD) or null when s is NULL/"". */
void diag_json_str(FILE *f, const char *s);

#endif
