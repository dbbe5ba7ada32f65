/* tpsd_session: one POST /tps/tps conversation, from BEGIN_OP to END_OP (tps-protocol.md §1.3):
 * the first client message must be BEGIN_OP (else the connection is dropped, as the Java
 * TPSSession does), the operation runs, END_OP carries the real result and message code. */
#ifndef TPSD_SESSION_H
#define TPSD_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "tpsd_conn.h"
#include "tpsd_faults.h"
#include "tpsd_op.h"

/* `initial`: body bytes already read with the head. Returns true when the conversation ended
 * cleanly and the client finished its request body (the connection may carry another
 * request), false when the connection must be closed. */
bool tpsd_session_run(const struct tpsd_ctx *ctx, struct tpsd_conn *conn,
                      const struct tpsd_faults *faults, const char *initial, size_t initial_len);

#endif
