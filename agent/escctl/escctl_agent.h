/* escctl_agent: escctl as a client of the running session agent (esc-agent --session or
 * --pam-serve on $XDG_RUNTIME_DIR/esc-agent/socket, common/ipc.h). status, list and the card
 * operations go through it when it is there, and run in-process when it is not; the output
 * and exit codes are the same either way. `escctl --no-agent` or ESC_NO_AGENT=1 forces
 * in-process. The connection is pam_esc's: the directory 0700 owned by the user, the peer's
 * uid checked (SO_PEERCRED), a bounded connect; any failure to reach the agent falls back
 * in-process silently (a debug line only).
 *
 * An operation through the agent is the hand-off protocol from pam_esc's side: REQUEST (with
 * IPC_FLAG_NO_SECRET: the agent never sends the new PIN back, and escctl never prints one),
 * each prompt answered from --user / --password-fd / --pin-fd or asked on the terminal (echo
 * off for secrets), PROGRESS to the progress bar, DONE -> the sentence and the exit code. */
#ifndef ESC_ESCCTL_AGENT_H
#define ESC_ESCCTL_AGENT_H

#include "escctl_ops.h"
#include "probe.h"
#include "term.h"

#include <stdbool.h>
#include <stddef.h>

/* Set by both escctl mains (not by esc-agent --op, the in-process form itself). */
extern bool escctl_agent_enabled;

/* Connect to the session agent, bounded; -1 (and a debug line) when there is none to use. */
int escctl_agent_connect(void);

/* status / list through the agent: the facts of each reader into f (at most max), *n set.
 * 0 ok; -1: the agent did not answer (nothing printed: run in-process). */
int escctl_agent_status(const char *reader, unsigned timeout_ms, struct probe_facts *f, size_t max,
                        size_t *n);

/* One operation through the agent. 1: the agent ran it, *e and sentence are its outcome;
 * 0: no agent to use (nothing was sent: run in-process). pw / pin: the preset answers or NULL. */
int escctl_agent_op(const char *op, const struct escctl_op_args *o, const char *pw, const char *pin,
                    unsigned timeout_ms, struct term_ui *t, esc_err *e, char *sentence, size_t cap);

#endif
