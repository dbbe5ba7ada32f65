/* pcsc_watchdog: a hard deadline for calls into libpcsclite, without a child process.
 *
 * pcsc-lite's client waits without limit for pcscd's answer: a stopped or wedged pcscd, or a
 * reader driver that waits forever on a card that stopped talking (vpcd does), blocks
 * SCardEstablishContext or SCardTransmit for good. A call blocked in read() can only be ended
 * from outside by ending its socket: at the deadline a thread shuts down (shutdown(2), not
 * close(2): the descriptor stays pcsc-lite's, so its number cannot be reused under it) the
 * watched context's socket to pcscd, and the blocked call returns SCARD_F_COMM_ERROR.
 * pcsc-lite sends with MSG_NOSIGNAL, so later calls on that socket fail without SIGPIPE.
 *
 * Which socket: the one pcsc-lite opens right after pcsc_wd_start() (descriptors are handed
 * out lowest first, so it takes the lowest free number, noted at start), recognised by its
 * peer, pcscd's socket file; pcsc_wd_learn() confirms it once SCardEstablishContext returned.
 * The host's own connections to pcscd are left alone (see shut_new() for the one exception).
 * No scan of the descriptor table on the normal path: the bound costs a thread and a few
 * syscalls.
 *
 * The thread blocks every signal (no handler of the host process ever runs on it) and is
 * joined by pcsc_wd_stop(): nothing is left behind in a PAM host. */
#ifndef ESC_PCSC_WATCHDOG_H
#define ESC_PCSC_WATCHDOG_H

#include "esc_err.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct pcsc_wd pcsc_wd;

/* Watch the sockets to the pcscd listening at sock_path until deadline_ms (esc_mono_ms();
 * 0: no deadline until one is set).
 * ESC_ERR_NO_PCSCD when the socket file is gone; ESC_ERR_NOMEM / ESC_ERR_IO when the thread
 * cannot be started. */
esc_err pcsc_wd_start(pcsc_wd **out, const char *sock_path, uint64_t deadline_ms);

/* Confirm the context's socket (call it right after SCardEstablishContext returned). */
void pcsc_wd_learn(pcsc_wd *w);

/* Move the deadline (0: none). A context bounded per call moves it before each call and
 * back after it (pcsc.c); one move costs a lock and a wake-up of the thread. */
void pcsc_wd_set_deadline(pcsc_wd *w, uint64_t deadline_ms);

/* Shut the socket down now, from any thread (a cancelled operation, pcsc_abort()). */
void pcsc_wd_fire_now(pcsc_wd *w);

/* Has the deadline passed (or pcsc_wd_fire_now been called) and the socket been shut down? */
bool pcsc_wd_fired(pcsc_wd *w);
/* The same, with the deadline that fired (0 when fired on demand). */
bool pcsc_wd_fired_at(pcsc_wd *w, uint64_t *deadline_ms);

/* Stop and join the thread, free w (NULL-safe). */
void pcsc_wd_stop(pcsc_wd *w);

#endif
