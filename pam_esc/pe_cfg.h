/* pe_cfg: pam_esc's module options (pam_esc.8).
 *
 *   debug                log each decision (never a PIN or password)
 *   debug_file=stderr    send the log to stderr instead of syslog (tests); the helper then
 *                        keeps stderr too
 *   conf=FILE            esc.conf to read (default: ESC_SYSCONFDIR/pam_esc/esc.conf)
 *   timeout=SECONDS      deadline of the whole hand-off, 1..3600 (default 180)
 *   operations=LIST      overrides login_operations: enroll,pinreset,renew,format or none
 *   quiet                no progress or info lines (errors are still shown)
 *   set_user             set PAM_USER to the directory user ID when the greeter had none
 *   no_session           never use a running session agent; always start the helper
 *   (default)            the decision cache (pe_cache.h): after a successful login, the next
 *                        one with the same card still in reads only the PIN tries (one APDU)
 *   remember             the same with no APDU at all; a PIN blocked by another program in
 *                        between is then caught by the after_failure line, after a PIN prompt
 *   no_remember          no decision cache: every login probes the card (four APDUs)
 *   helper=PATH          the helper to start (default ESC_LIBEXECDIR/esc-agent)
 *   after_failure        the second pam_esc line, after the card login module: when that
 *                        failed and the PIN lost tries since the first line's probe, offer a
 *                        PIN reset (pe_offer.h)
 *   state_dir=DIR        where a "not now" to the renewal offer is remembered (default
 *                        /run/pam_esc as root, else $XDG_RUNTIME_DIR/pam_esc)
 *   test_script=FILE     tests only: the helper replays FILE (ESC_TEST_SCRIPT) instead of
 *                        running the TPS operation. Only an administrator can set a module
 *                        option, so no caller can switch this on.
 *   test_card_state=S    tests only: skip the probe and act as if the card were in state S
 *                        (UNINITIALIZED, PIN_LOCKED, ... as probe_state_name() spells them)
 *   test_reader_seat=SEAT tests only: apply the seat rule as if logind ran, every reader being
 *                        on SEAT (the rig has no logind, and vpcd's reader no USB device);
 *                        the login's own seat is found as always (pe_local.h) */
#ifndef PE_CFG_H
#define PE_CFG_H

#include <stdbool.h>

#define PE_TIMEOUT_DEFAULT 180
#define PE_PATH_MAX        512

struct pe_cfg {
    bool debug, debug_stderr, quiet, set_user, no_session, after_failure, remember, no_remember;
    unsigned timeout_s;
    bool have_ops;
    unsigned ops; /* CONF_OP_* when have_ops */
    char conf[PE_PATH_MAX];
    char helper[PE_PATH_MAX];
    char test_script[PE_PATH_MAX];
    char state_dir[PE_PATH_MAX];
    int test_state; /* enum probe_state, -1: probe the card */
    char test_reader_seat[64];
};

/* Parse argv into c (defaults first). Each bad argument is named in err (first one wins)
 * and skipped; returns the number of bad arguments. */
int pe_cfg_parse(struct pe_cfg *c, int argc, const char **argv, char *err, unsigned errlen);

#endif
