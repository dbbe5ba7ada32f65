/* vc_vpcd.h: the card in the reader: a TCP client of vsmartcard's vpcd driver inside pcscd
 * (test-rig.md §3.1), with fault injection for the reader side's bad-input tests. */
#ifndef ESC_VC_VPCD_H
#define ESC_VC_VPCD_H

#include "vc_card.h"

enum vc_fault_kind {
    VC_FAULT_NONE,
    VC_FAULT_GARBAGE,
    VC_FAULT_SHORT,
    VC_FAULT_LONG,
    VC_FAULT_VANISH,
    VC_FAULT_SLOW
};

struct vc_fault {
    enum vc_fault_kind kind;
    unsigned long arg; /* vanish: APDU number; slow: milliseconds per APDU (a successful
                        * GENERATE KEY 2000 ms more: on-card RSA key generation) */
};

/* Parses "garbage", "short", "long", "vanish:N", "slow:MS". 0 or -1. */
int vc_fault_parse(const char *s, struct vc_fault *f);

/* make bench: after every answer, write the card's busy time so far (from a command's last
 * byte read to its answer's last byte sent: processing, state saved, slow delay) to `path`
 * as one line "apdus busy_us keygens". NULL: none (the default). */
void vc_serve_busy_file(const char *path);

/* Connects to vpcd at host:port (retrying for a few seconds) and serves APDUs until SIGTERM or
 * SIGINT (returns 0); SIGHUP reads `state_path` again before the next command or until vpcd closes
 * the connection (returns 0). The state is saved to `state_path` after every command that changed
 * it, before the answer goes out. Returns 1 on a connection or save failure. */
int vc_serve(struct vc_card *c, const char *state_path, const char *host, int port,
             const struct vc_fault *fault);

#endif
