/* pcscd_card: a card session over pcscd's own client protocol (pcscd_wire.h), without
 * libpcsclite: one connection, a context, one card handle, transactions and APDUs.
 *
 * Why: libpcsclite cannot bound its calls, so every bounded libpcsclite context costs a
 * watchdog thread in the caller (pcsc_watchdog.h) and a round trip to pcscd per call. Here
 * every step is a message on our own non-blocking socket, bounded by poll() against the
 * session's deadline: no thread, no signal, and messages that need no answer in between are
 * written together (VERSION, ESTABLISH_CONTEXT and GET_READERS_STATE in one write; END,
 * DISCONNECT in one). pcsc.h uses it for every context opened with a deadline and falls back
 * to libpcsclite when pcscd refuses protocol 4.4.
 *
 * The messages and their layouts are pcsc-lite's (src/winscard_msg.h, the server side in
 * src/winscard_svc.c, 1.9.9 to 2.2.x): each request is a header {size of the fixed body,
 * command} and the fixed body (TRANSMIT: the APDU follows, not counted in size); each answer
 * is the fixed body with rv set (TRANSMIT: the response follows when rv is 0). Everything
 * pcscd sends is checked: a length it announces over what we asked for is a protocol error.
 *
 * A step that fails on the socket (cut, past its deadline, cancelled) ends the session: the
 * stream is out of step, every later step fails the same way, and closing it just closes it
 * (pcscd then resets the card, as for a libpcsclite client whose socket the watchdog shut).
 *
 * Closing the socket with a card still connected makes pcscd reset the card (MSGRemoveContext
 * disconnects with SCARD_RESET_CARD when the card was not reset already): pcscd_card_close()
 * always disconnects with SCARD_LEAVE_CARD first, so a PIN verified by another program stays
 * verified, and reads the answers still due (an END not yet done would make the next
 * program's SCardBeginTransaction wait 100 ms, pcscd's PCSCLITE_LOCK_POLL_RATE); the context
 * itself is released by pcscd when the socket closes, which costs no round trip. */
#ifndef ESC_PCSCD_CARD_H
#define ESC_PCSCD_CARD_H

#include "esc_err.h"
#include "pcsc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pcscd_card pcscd_card;

/* Connect to pcscd, agree on protocol 4.4 and establish a context; the readers' states that
 * come with it go to readers (up to max; *n, may be NULL when max is 0). deadline: monotonic
 * ms (clock.h) bounding the whole session. ESC_ERR_NO_PCSCD: no socket or nobody listening;
 * ESC_ERR_NOT_SUPPORTED: pcscd refused protocol 4.4 (use libpcsclite); ESC_ERR_PCSCD_HUNG:
 * connected, no answer before the deadline; ESC_ERR_PROTOCOL: a malformed answer. */
esc_err pcscd_card_open(pcscd_card **out, uint64_t deadline, struct pcsc_reader *readers,
                        size_t max, size_t *n);
/* The same on a connected socket (tests and the fuzz harness: fd is taken over). */
esc_err pcscd_card_open_fd(pcscd_card **out, int fd, uint64_t deadline, struct pcsc_reader *readers,
                           size_t max, size_t *n);
/* Disconnect the card (leaving it as it is), release the context, close. NULL-safe. */
void pcscd_card_close(pcscd_card *s);
/* End every pending and later step at once (ESC_ERR_CANCELLED); safe from another thread. */
void pcscd_card_abort(pcscd_card *s);

/* The readers now (GET_READERS_STATE). */
esc_err pcscd_card_readers(pcscd_card *s, struct pcsc_reader *out, size_t max, size_t *n);

/* Connect to the card in reader: shared and T=0 or T=1, or (direct) to the reader alone, no
 * protocol, nothing sent to the card. One card handle per session: a second connect first
 * disconnects the first. */
esc_err pcscd_card_connect(pcscd_card *s, const char *reader, bool direct);
/* Disconnect the card handle (reset: SCARD_RESET_CARD, else leave it). */
esc_err pcscd_card_disconnect(pcscd_card *s, bool reset);
esc_err pcscd_card_begin(pcscd_card *s);
esc_err pcscd_card_end(pcscd_card *s);
/* Is the card still the one connected to (SCARD_STATUS: not removed, not reset since)? */
esc_err pcscd_card_status(pcscd_card *s);
/* One APDU exchange as SCardTransmit: *rlen bytes of answer, SW1 SW2 included. A longer
 * answer than cap is ESC_ERR_CARD_LONG. */
esc_err pcscd_card_transmit(pcscd_card *s, const uint8_t *cmd, size_t len, uint8_t *resp,
                            size_t cap, size_t *rlen);
/* BEGIN, n APDUs, END and DISCONNECT (leaving the card) written at once, every answer read:
 * one round trip to pcscd for a short exchange. resp[i] gets rlen[i] bytes (SW included; no
 * 61xx/6Cxx handling). The card handle is gone after, whatever the outcome. The first failure
 * is returned (a refused transaction: its reason, the APDUs having run outside it). */
#define PCSCD_BATCH_MAX 4
esc_err pcscd_card_batch(pcscd_card *s, size_t n, const uint8_t *const cmd[], const size_t len[],
                         uint8_t resp[][PCSC_RESP_MAX], size_t rlen[]);
/* SCardGetAttrib on the connected handle: up to cap bytes into buf. */
esc_err pcscd_card_attrib(pcscd_card *s, uint32_t id, uint8_t *buf, size_t cap, size_t *len);

/* The deadline of the steps from now on (monotonic ms): pcsc.h bounds each call so. */
void pcscd_card_deadline(pcscd_card *s, uint64_t deadline);
/* Read the answers still due now (a BEGIN sent without waiting: its refusal is returned). */
esc_err pcscd_card_flush(pcscd_card *s);

/* pcsc-lite's reason for the last failure (its LONG rv), 0 when it was not pcscd's. */
long pcscd_card_last_rv(const pcscd_card *s);

#endif
