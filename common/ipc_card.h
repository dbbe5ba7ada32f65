/* ipc_card: one reader's probe facts (common/probe.h) as an IPC_CARD message, so that
 * `escctl status` answered by the session agent prints what it prints in-process. An absent
 * optional field is an unknown fact (life cycle, PIN tries, CUID); the decoder of the other
 * side is hostile input: every value is checked against what a probe can produce. */
#ifndef ESC_IPC_CARD_H
#define ESC_IPC_CARD_H

#include "ipc.h"
#include "probe.h"

/* The facts into a CARD message (m is initialised here). */
void ipc_card_from_facts(const struct probe_facts *f, struct ipc_msg *m);
/* A decoded CARD message into facts (zeroed first). ESC_ERR_PROTOCOL when a value is not one a
 * probe can give (unknown state, a hex field that is no hex, an ATR too long). */
esc_err ipc_card_to_facts(const struct ipc_msg *m, struct probe_facts *f);

#endif
