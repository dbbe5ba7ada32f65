/* ops: the card operations in one table: their names, how a name is read, the TPS operation
 * each one sends, and which card state calls for which. esc.conf (login_operations), pam_esc
 * (operations=, its decision, the hand-off REQUEST), the agent (escctl's commands, the REQUEST
 * it serves, the engine's BEGIN_OP) and escctl diag all use it; there is no other copy.
 *
 * The one rule for reading a name (esc_op_find): any of an operation's two words, "pinreset" or
 * "reset-pin", compared without regard to case ("Enroll" is enroll), wherever it is read:
 * esc.conf, pam_esc's operations=, the hand-off REQUEST. escctl's commands are dispatched by
 * its own command table first (exact lowercase names, escctl(1)). */
#ifndef ESC_OPS_H
#define ESC_OPS_H

#include "probe.h"

#include <stdbool.h>
#include <stddef.h>

/* The bits of an operation set (esc.conf login_operations, pam_esc operations=). */
#define CONF_OP_ENROLL   0x1u
#define CONF_OP_PINRESET 0x2u
#define CONF_OP_RENEW    0x4u
#define CONF_OP_FORMAT   0x8u
#define CONF_OP_ALL      (CONF_OP_ENROLL | CONF_OP_PINRESET | CONF_OP_RENEW | CONF_OP_FORMAT)

struct esc_op {
    int op;              /* enum tps_op (tps_msg.h): the operation the engine runs */
    const char *word;    /* esc.conf, pam_esc and the hand-off REQUEST: "pinreset" */
    const char *command; /* escctl's command, the logs: "reset-pin" */
    unsigned bit;        /* CONF_OP_* */
    int begin_op;        /* BEGIN_OP operation sent to the TPS: renew is 1, an enroll of the
                            active token (Dogtag TPSSession.process answers 4 with an error;
                            docs/dogtag-conformance.md) */
    const char *doing;   /* pam_esc's progress line: "Resetting your smart card PIN" */
    const char *done;    /* what the operation claims: "the PIN was reset" */
};

/* The operation TPS_OP_* `op`, or NULL when it is none of ours (unblock, anything else). */
const struct esc_op *esc_op_get(int op);
/* The operation named by the `len` bytes at `name` (not NUL-terminated necessarily), by the
 * rule above; NULL otherwise. */
const struct esc_op *esc_op_find(const char *name, size_t len);
/* TPS_OP_* named by the NUL-terminated `name`, or -1. */
int esc_op_parse(const char *name);
/* A set of operations: words separated by spaces, tabs or commas, or "none" (empty: none).
 * 0 with *bits set, -1 on an unknown word (*bits untouched). */
int esc_ops_parse(const char *list, unsigned *bits);
/* The operation a card state calls for (NO_APPLET / UNINITIALIZED: enroll, PIN_LOCKED:
 * pinreset, EXPIRED: renew), or 0: none (ENROLLED, nothing to talk to, ERROR). */
int esc_op_for_state(enum probe_state s);
/* The word / command of TPS_OP_* `op`; "unknown" for none of ours. */
const char *esc_op_word(int op);
const char *esc_op_command(int op);

#endif
