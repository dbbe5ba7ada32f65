/* probe_state: the names of the probe's states (probe.h), apart from the probe itself so that
 * a program which only prints facts (the thin escctl, agent/escctl/main_escctl_front.c) links
 * no PC/SC code. */
#include "probe.h"

const char *probe_state_name(enum probe_state s)
{
    static const char *const names[] = {
        [PROBE_NO_PCSCD] = "NO_PCSCD",
        [PROBE_NO_READER] = "NO_READER",
        [PROBE_NO_CARD] = "NO_CARD",
        [PROBE_NO_APPLET] = "NO_APPLET",
        [PROBE_UNINITIALIZED] = "UNINITIALIZED",
        [PROBE_ENROLLED] = "ENROLLED",
        [PROBE_PIN_LOCKED] = "PIN_LOCKED",
        [PROBE_EXPIRED] = "EXPIRED",
        [PROBE_ERROR] = "ERROR",
    };
    if ((unsigned)s >= sizeof names / sizeof names[0])
        return "ERROR";
    return names[s];
}
