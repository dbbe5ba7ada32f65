/* op_stop: what ends a running operation from outside its own steps: the user going away
 * (a front calls op_stop_cancel(), from any thread) and the operation's overall deadline.
 *
 * The engine looks at it between steps (op_stop_check()); the TPS conversation looks at it
 * at least every 100 ms while it waits; a card call blocked inside libpcsclite is
 * ended at once by shutting its pcscd socket down (pcsc_abort() on the context attached here)
 * and, for the deadline, by the context's own deadline (pcsc_open_bounded()). A question to
 * the user is bounded by the front (the hand-off's socket, the terminal). */
#ifndef ESC_OP_STOP_H
#define ESC_OP_STOP_H

#include "esc_err.h"
#include "pcsc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct op_stop {
    atomic_int why;       /* esc_err: ESC_OK running, ESC_ERR_CANCELLED (the user cancelled or
                             went away), ESC_ERR_TIMEOUT (the overall deadline passed); the
                             first reason stays */
    uint64_t deadline_ms; /* esc_mono_ms(); 0 = none */
    pthread_mutex_t mu;   /* guards pc */
    pcsc_ctx *pc;         /* the card context to end on a cancel, or NULL */
};

/* deadline_ms: esc_mono_ms() value, 0 = none. */
void op_stop_init(struct op_stop *s, uint64_t deadline_ms);
void op_stop_destroy(struct op_stop *s);

/* Stop the operation (any thread): later checks say ESC_ERR_CANCELLED, a pending card call
 * ends. */
void op_stop_cancel(struct op_stop *s);

/* ESC_OK while it runs, or why the operation must end: ESC_ERR_CANCELLED or ESC_ERR_TIMEOUT
 * (the deadline is noticed here). NULL-safe. */
esc_err op_stop_check(struct op_stop *s);

/* Milliseconds left before the deadline (at least 1), or `dflt` when there is none or more. */
unsigned op_stop_left_ms(const struct op_stop *s, unsigned dflt);

/* Attach the card context a cancel must end (NULL to detach before pcsc_close()). */
void op_stop_attach(struct op_stop *s, pcsc_ctx *pc);

#endif
