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
 * No secret is read or printed: no PIN is sent (the probe never spends a try). */
#ifndef ESC_ESCCTL_DIAG_H
#define ESC_ESCCTL_DIAG_H

#include "conf.h"
#include "engine/phone_home.h"
#include "probe.h"

#include <stdbool.h>
#include <stddef.h>

#define ESCCTL_DIAG_USAGE "[--reader R] [--json] [--timeout MS] [--conf FILE]"

int escctl_cmd_diag(int argc, char **argv);

/* ---- shared by escctl_diag.c (local checks) and escctl_diag_net.c (network checks) ---- */

enum diag_result { DIAG_OK, DIAG_PROBLEM, DIAG_SKIPPED };

#define DIAG_NCHECKS    8
#define DIAG_DETAIL_MAX 640

struct diag_check {
    const char *name;
    enum diag_result result;
    int code; /* escctl exit code of a problem */
    char detail[DIAG_DETAIL_MAX];
};

struct diag {
    struct diag_check checks[DIAG_NCHECKS];
    size_t n;
    /* what the earlier checks found, for the later ones */
    struct esc_conf conf;
    struct probe_facts facts;
    unsigned card_timeout_ms; /* pcscd, readers, probe */
    long net_timeout_ms;      /* each network request */
    char ph_url[PH_URL_MAX];  /* the phone-home URL check 5 chose */
    char cache_dir[CONF_VALUE_MAX + 32];
    struct ph_profile cached; /* valid when have_cached */
    bool have_cached;
    struct ph_profile fetched; /* check 7's answer */
};

/* Record the outcome of check `name`; returns result == DIAG_OK (so checks chain with &&). */
bool diag_add(struct diag *d, const char *name, enum diag_result result, int code, const char *fmt,
              ...) __attribute__((format(printf, 5, 6)));

/* Checks 5..8 (escctl_diag_net.c); each returns true when ok. */
bool diag_check_ph_url(struct diag *d);
bool diag_check_trust(struct diag *d);
bool diag_check_phone_home(struct diag *d);
bool diag_check_tps(struct diag *d);

#endif
