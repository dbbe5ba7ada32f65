/* pcsc: the PC/SC transport (pcsc-lite). Every call is bounded and every failure has its
 * own esc_err: no pcscd (ESC_ERR_NO_PCSCD), pcscd not answering (ESC_ERR_PCSCD_HUNG),
 * no reader (ESC_ERR_NO_READER), no card (ESC_ERR_NO_CARD), card pulled mid-command
 * (ESC_ERR_CARD_REMOVED), deadline passed (ESC_ERR_TIMEOUT).
 *
 * Bounds (measured on the rig, see tests/integration/escctl_status.sh, tests/unit/test_pcsc.c):
 * - no pcscd (no socket file): ESC_ERR_NO_PCSCD at once, without entering libpcsclite or
 *   starting anything; a socket nobody listens on: ESC_ERR_NO_PCSCD from libpcsclite (< 1 ms).
 * - a context opened with a deadline speaks pcscd's own protocol (4.4, pcscd_card.h) on a
 *   socket of its own instead of going through libpcsclite: every step is a message bounded by
 *   poll(), no thread, no child process, no signal; several requests go in one write where no
 *   answer is needed in between. pcscd stopped or wedged during pcsc_open():
 *   ESC_ERR_PCSCD_HUNG; any later call: ESC_ERR_TIMEOUT. One card connected at a time.
 * - with a pcscd that refuses protocol 4.4, the same context goes through libpcsclite, bounded
 *   inside it by a watchdog thread (pcsc_watchdog.h) that shuts the context's socket to pcscd
 *   down at the deadline, joined by pcsc_close().
 * - every call also checks the deadline before it starts (ESC_ERR_TIMEOUT).
 * - a context opened with pcsc_open_bounded() (the agent's operations) also bounds each call
 *   on its own (call_ms, e.g. one APDU; acquire_ms for SCardConnect and
 *   SCardBeginTransaction, which wait while another client holds the card). When a call
 *   outlives its bound (its own poll() deadline, or the watchdog's), a fresh context asks
 *   pcscd whether it still answers: it does not,
 *   ESC_ERR_PCSCD_HUNG; it does, ESC_ERR_CARD_IN_USE (connect, begin: another client's
 *   transaction) or ESC_ERR_CARD_MUTE (any other call: the card or its reader). Such a
 *   context can be ended from another thread (pcsc_abort(): ESC_ERR_CANCELLED).
 * - a context opened without any deadline (timeout 0) is not bounded inside libpcsclite.
 * - a card pulled mid-command: ESC_ERR_CARD_REMOVED (vpcd returns an empty reply; we wait
 *   up to 1 s, within the deadline, for pcscd to see the reader empty). */
#ifndef ESC_PCSC_H
#define ESC_PCSC_H

#include "esc_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCSC_READER_NAME_MAX 128
#define PCSC_MAX_READERS     16
#define PCSC_ATR_MAX         33
/* Largest response APDU we accept: 256 data bytes + SW1 SW2 (short APDUs only). */
#define PCSC_RESP_MAX 258

typedef struct pcsc_ctx pcsc_ctx;
typedef struct pcsc_card pcsc_card;

struct pcsc_reader {
    char name[PCSC_READER_NAME_MAX];
    bool card_present;
    bool card_mute; /* present but does not answer reset */
    bool exclusive; /* another program holds it exclusively */
    bool in_use;    /* some program is connected to the card */
    uint8_t atr[PCSC_ATR_MAX];
    size_t atr_len;
    /* pcscd's count of card insertions and removals in this reader (the high 16 bits of
     * dwEventState): the same card stayed in while it is unchanged. pcscd starts it at 0
     * for a new reader (its own start, the reader plugged in again). */
    unsigned event_count;
};

/* Establish a context. timeout_ms bounds the whole life of the context, every call and
 * pcsc_close() included (a call running at the deadline returns, a later one fails at once,
 * both with ESC_ERR_TIMEOUT); 0 means no deadline. */
esc_err pcsc_open(pcsc_ctx **out, unsigned timeout_ms);
void pcsc_close(pcsc_ctx *ctx); /* NULL-safe */

struct pcsc_bounds {
    unsigned timeout_ms; /* the whole context, as pcsc_open(); 0 = none */
    unsigned call_ms;    /* each call into libpcsclite; 0 = none */
    unsigned acquire_ms; /* SCardConnect and SCardBeginTransaction; 0 = call_ms */
};
/* A context for a long operation: bounded as a whole and call by call (see above). The
 * watchdog is moved before and after each call: two lock/signal pairs per APDU. */
esc_err pcsc_open_bounded(pcsc_ctx **out, const struct pcsc_bounds *b);
/* End the context's pending call and refuse every later one (ESC_ERR_CANCELLED); safe from
 * another thread while the context is in use, not after pcsc_close(). Without a bound
 * (timeout_ms and call_ms both 0) only later calls are refused. */
void pcsc_abort(pcsc_ctx *ctx);

/* List readers with their presence state (SCardGetStatusChange, timeout 0).
 * ESC_ERR_NO_READER when there is none. At most `max` are returned. */
esc_err pcsc_list_readers(pcsc_ctx *ctx, struct pcsc_reader *out, size_t max, size_t *count);

/* Connect (shared, T=0 or T=1) to the card in `reader`. */
esc_err pcsc_connect(pcsc_ctx *ctx, const char *reader, pcsc_card **out);
/* SCARD_ATTR_CHANNEL_ID of `reader` (connected directly: the card is neither powered nor sent
 * anything). For a USB reader (the CCID driver since 1.4.32) 0x0020BBDD: BB the bus number,
 * DD the device address. ESC_ERR_NOT_SUPPORTED when the driver does not tell (vpcd). */
esc_err pcsc_reader_channel(pcsc_ctx *ctx, const char *reader, uint32_t *channel);
/* Disconnect (NULL-safe). reset: reset the card (logs out every PIN) instead of leaving it. */
void pcsc_disconnect(pcsc_card *card, bool reset);

/* ATR and reader of a connected card (SCardStatus). */
esc_err pcsc_status(pcsc_card *card, uint8_t *atr, size_t cap, size_t *atr_len);

/* Exclusive access for a sequence of APDUs (SCardBeginTransaction / EndTransaction). */
esc_err pcsc_begin(pcsc_card *card);
void pcsc_end(pcsc_card *card);

/* Send one command APDU, return the response (data + SW1 SW2) in resp.
 * Handles 61xx (GET RESPONSE, appended) and 6Cxx (resend with Le = xx) like coolkey does.
 * A response shorter than 2 bytes is ESC_ERR_CARD_SHORT; longer than cap (or than
 * PCSC_RESP_MAX) is ESC_ERR_CARD_LONG. The status word is NOT interpreted here. */
esc_err pcsc_transmit(pcsc_card *card, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                      size_t cap, size_t *resp_len);

/* n APDUs (n <= PCSC_BATCH_MAX) in one transaction, then the card left as it is and
 * disconnected (card is freed, whatever the outcome). On a direct context all of it is one
 * write and one round trip to pcscd (pcscd_card_batch); else one call each. Answers are raw:
 * resp[i] holds rlen[i] bytes, SW included, no 61xx/6Cxx handling. */
#define PCSC_BATCH_MAX 4
esc_err pcsc_batch_leave(pcsc_card *card, size_t n, const uint8_t *const cmd[],
                         const size_t cmd_len[], uint8_t resp[][PCSC_RESP_MAX], size_t rlen[]);

/* After a call blocked past its bound (a probe that timed out): does pcscd still answer (no:
 * ESC_ERR_PCSCD_HUNG), and is someone connected to the card in `reader` (NULL: any reader
 * holding one) (yes: ESC_ERR_CARD_IN_USE, another client's transaction held us; no:
 * ESC_ERR_CARD_MUTE, the card or its reader did not answer)? Costs a fresh context, at most
 * 1 s. */
esc_err pcsc_stall_cause(const char *reader);

/* Convert a pcsc-lite LONG return code to esc_err (exposed for the agent's reader watcher). */
esc_err pcsc_err_from_rv(long rv);

#endif
