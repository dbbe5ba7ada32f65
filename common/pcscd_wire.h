/* pcscd_wire: the few messages of pcscd's own client protocol that we speak without
 * libpcsclite (pcsc-lite src/winscard_msg.h, src/winscard_svc.c, src/eventhandler.h).
 *
 * Protocol 4.4 (pcsc-lite 1.9.9 to 2.2.x; later versions accept it as a client's older
 * version). What each message is for:
 * - CMD_VERSION: the version check (answered with pcscd's version and rv 0 when it accepts
 *   ours);
 * - CMD_GET_READERS_STATE: every reader slot's state (READER_STATE[16]) at once, no context
 *   needed: the reader's name, pcscd's count of insertions and removals, whether a card is in,
 *   its ATR;
 * - CMD_WAIT_READER_STATE_CHANGE: the same, then one message at the next change of any reader
 *   (the session watcher, agent/session/session_watch.c).
 *
 * Why: a libpcsclite context costs a thread of its own in the caller (pcsc_watchdog.h) and
 * five round trips to pcscd (VERSION, ESTABLISH_CONTEXT, GET_READERS_STATE, the
 * WAIT/STOP_WAITING pair of SCardGetStatusChange, RELEASE_CONTEXT) to learn what one
 * GET_READERS_STATE says. pam_esc's remembered decision (pe_cache.h) needs nothing else, so it
 * asks with pcscd_wire_readers(): one connection, VERSION and GET_READERS_STATE written
 * together, both answers read, every step bounded by the caller's time limit. */
#ifndef ESC_PCSCD_WIRE_H
#define ESC_PCSCD_WIRE_H

#include "esc_err.h"
#include "pcsc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCSCD_PROTO_MAJOR                  4
#define PCSCD_PROTO_MINOR                  4
#define PCSCD_CMD_ESTABLISH_CONTEXT        0x01
#define PCSCD_CMD_RELEASE_CONTEXT          0x02
#define PCSCD_CMD_CONNECT                  0x04
#define PCSCD_CMD_DISCONNECT               0x06
#define PCSCD_CMD_BEGIN_TRANSACTION        0x07
#define PCSCD_CMD_END_TRANSACTION          0x08
#define PCSCD_CMD_TRANSMIT                 0x09
#define PCSCD_CMD_STATUS                   0x0B
#define PCSCD_CMD_GET_ATTRIB               0x0F
#define PCSCD_CMD_VERSION                  0x11
#define PCSCD_CMD_GET_READERS_STATE        0x12
#define PCSCD_CMD_WAIT_READER_STATE_CHANGE 0x13
#define PCSCD_READER_SLOTS                 16  /* PCSCLITE_MAX_READERS_CONTEXTS */
#define PCSCD_NAME_MAX                     128 /* MAX_READERNAME */
#define PCSCD_ATR_MAX                      33  /* MAX_ATR_SIZE */
#define PCSCD_ATTR_MAX                     264 /* MAX_BUFFER_SIZE */

struct pcscd_header { /* rxHeader: every request starts with it */
    uint32_t size;    /* of the body that follows */
    uint32_t command;
};
struct pcscd_version { /* version_struct: CMD_VERSION's body and answer */
    int32_t major, minor;
    uint32_t rv;
};
struct pcscd_wait { /* wait_reader_state_change: a change message */
    uint32_t timeout, rv;
};
struct pcscd_reader_state { /* READER_STATE, as pcscd lays it out */
    char name[PCSCD_NAME_MAX];
    uint32_t event_counter; /* insertions and removals so far */
    uint32_t state;         /* SCARD_ABSENT, SCARD_PRESENT, ... (pcsclite.h) */
    int32_t sharing;
    unsigned char atr[PCSCD_ATR_MAX];
    uint32_t atr_len;
    uint32_t protocol;
};
_Static_assert(sizeof(struct pcscd_reader_state) == 184, "READER_STATE as pcscd lays it out");
/* The bodies of the card messages (pcscd_card.h), pcsc-lite's *_struct of the same name. */
struct pcscd_establish {
    uint32_t scope, context, rv;
};
struct pcscd_release {
    uint32_t context, rv;
};
struct pcscd_connect {
    uint32_t context;
    char reader[PCSCD_NAME_MAX];
    uint32_t share, protocols;
    int32_t card;
    uint32_t active, rv;
};
struct pcscd_handle_rv { /* begin_struct, status_struct */
    int32_t card;
    uint32_t rv;
};
struct pcscd_disposition { /* disconnect_struct, end_struct */
    int32_t card;
    uint32_t disposition, rv;
};
struct pcscd_transmit { /* the APDU follows the request, the answer follows when rv is 0 */
    int32_t card;
    uint32_t send_proto, send_pci_len, send_len;
    uint32_t recv_proto, recv_pci_len, recv_len;
    uint32_t rv;
};
struct pcscd_attrib { /* getset_struct */
    int32_t card;
    uint32_t id;
    uint8_t attr[PCSCD_ATTR_MAX];
    uint32_t len, rv;
};
_Static_assert(sizeof(struct pcscd_connect) == 152, "connect_struct as pcscd lays it out");
_Static_assert(sizeof(struct pcscd_transmit) == 32, "transmit_struct as pcscd lays it out");
_Static_assert(sizeof(struct pcscd_attrib) == 280, "getset_struct as pcscd lays it out");
#define PCSCD_STATES_SIZE (sizeof(struct pcscd_reader_state) * PCSCD_READER_SLOTS)

/* pcscd's socket, as libpcsclite finds it: $PCSCLITE_CSOCK_NAME, else pcsc-lite's default (the
 * one place the project reads it). */
const char *pcscd_socket_path(void);

/* A non-blocking socket connected to pcscd, or -1 (nobody there). */
int pcscd_wire_connect(void);
/* Send or receive exactly len bytes before the deadline (monotonic ms). Receive:
 * ESC_ERR_PROTOCOL when pcscd closes first; either: ESC_ERR_TIMEOUT at the deadline,
 * ESC_ERR_IO on a socket error. */
esc_err pcscd_wire_send(int fd, const void *buf, size_t len, uint64_t deadline);
esc_err pcscd_wire_recv(int fd, void *buf, size_t len, uint64_t deadline);
/* For the answer to a request just sent: wait for the socket before receiving (the answer is
 * never there yet: a receive that would fail first is saved), then receive what has come, up
 * to cap bytes (*got >= 1). ESC_ERR_PROTOCOL when pcscd closed the connection. */
esc_err pcscd_wire_await(int fd, void *buf, size_t cap, size_t *got, uint64_t deadline);

/* One slot: false when it holds no reader we can name (empty, or a name without its NUL).
 * Else the name goes to name (cap >= PCSCD_NAME_MAX) and *card says whether a usable card is
 * in it: present, not mute (SCARD_SWALLOWED), its reader known. */
bool pcscd_slot(const struct pcscd_reader_state *s, char *name, size_t cap, bool *card);

/* The readers of a GET_READERS_STATE answer (len must be PCSCD_STATES_SIZE), as
 * pcsc_list_readers() would give them: name, card present, ATR (a length over 33 is read as
 * none), the event count (its low 16 bits, what SCardGetStatusChange puts in dwEventState's
 * high 16); in_use and exclusive from pcscd's count of handles sharing the card (-1: one
 * exclusive). ESC_ERR_PROTOCOL on a
 * wrong length; up to max readers. */
esc_err pcscd_wire_parse(const void *buf, size_t len, struct pcsc_reader *out, size_t max,
                         size_t *n);

/* Ask pcscd for its readers (see above), within timeout_ms. ESC_ERR_NO_PCSCD: no socket or
 * nobody listening; ESC_ERR_NOT_SUPPORTED: pcscd refused protocol 4.4; ESC_ERR_TIMEOUT: no
 * whole answer in time; ESC_ERR_PROTOCOL: the connection closed early. */
esc_err pcscd_wire_readers(struct pcsc_reader *out, size_t max, size_t *n, unsigned timeout_ms);

#endif
