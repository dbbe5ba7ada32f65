/* fault_probe: one card probe (common/probe.h) as pam_esc runs it (decide_only) or as escctl
 * status does ("full"), for tests/fault/fault_walk.sh: prints "STATE ERR_NAME: sentence".
 * Exit 0 when the probe read the card's state, 1 when it ended in an error state. */
#include "esc_err.h"
#include "probe.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    struct probe_facts f;
    struct probe_opts o = {.timeout_ms = 5000,
                           .decide_only = !(argc > 1 && !strcmp(argv[1], "full"))};

    probe_card(&o, &f);
    printf("%s %s: %s\n", probe_state_name(f.state), esc_err_name(f.err),
           f.err != ESC_OK ? esc_strerror(f.err) : "The card was read.");
    return f.state == PROBE_NO_PCSCD || f.state == PROBE_NO_READER || f.state == PROBE_NO_CARD ||
                   f.state == PROBE_ERROR
               ? 1
               : 0;
}
