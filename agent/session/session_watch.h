/* session_watch: the session daemon's reader watcher, on the daemon's one thread.
 *
 * It waits on pcscd's own event notification, speaking pcscd's client protocol for that one
 * request: CMD_VERSION (4.4), then CMD_WAIT_READER_STATE_CHANGE, to which pcscd answers with
 * every reader's state (READER_STATE[PCSCLITE_MAX_READERS_CONTEXTS]) and, at the next change of
 * any reader, one wait_reader_state_change message; then we ask again. pcsc-lite 1.9.9 to 2.2.x
 * speak 4.4, later versions accept it (PROTOCOL_VERSION_MINOR_SERVER_BACKWARD); see
 * src/winscard_svc.c, src/eventhandler.c, src/winscard_msg.h in pcsc-lite.
 * Why not libpcsclite's SCardGetStatusChange(INFINITE): its client (src/winscard_clnt.c) turns
 * INFINITE into waits of 60 s ("dwTime = 60*1000"), i.e. a wake-up a minute and a thread of its
 * own. Here the socket sits in the daemon's poll(2) with no timeout: idle, nothing runs.
 *
 * When pcscd is not there it waits for its socket to appear (inotify on the socket's directory,
 * a few quick retries after each change), says so once, and after reconnecting reports every
 * card present as inserted again. Every read is non-blocking: a frozen pcscd stalls nothing. */
#ifndef ESC_SESSION_WATCH_H
#define ESC_SESSION_WATCH_H

#include <stddef.h>

#define SW_READER_NAME_MAX 128 /* pcsc-lite's MAX_READERNAME */

enum sw_kind {
    SW_INSERT,         /* a card is in `reader` */
    SW_REMOVE,         /* the card left `reader` */
    SW_READER_ADDED,   /* a reader appeared */
    SW_READER_REMOVED, /* a reader went away */
    SW_PCSCD_LOST,     /* pcscd is gone or not running (detail says why) */
    SW_PCSCD_BACK,     /* connected to pcscd again */
};

struct sw_event {
    enum sw_kind kind;
    char reader[SW_READER_NAME_MAX];
    char detail[160];
};

typedef struct sw_watcher sw_watcher;

/* A watcher, not yet connected (the first sw_step connects). NULL when out of memory. */
sw_watcher *sw_open(void);
/* The descriptor to poll for POLLIN (pcscd's socket, or the inotify watch while pcscd is away;
 * -1: none) and how long to wait at most (-1: no limit; only while retrying after pcscd's
 * socket changed). */
int sw_fd(const sw_watcher *w);
int sw_timeout_ms(const sw_watcher *w);
/* Do what is due (read pcscd's messages, ask again, connect); up to max events out. Call it
 * when the descriptor is readable or the timeout ran out; call again while it returns max. */
size_t sw_step(sw_watcher *w, struct sw_event *out, size_t max);
/* Look for pcscd now (udev saw a reader while pcscd was away). */
void sw_rescan(sw_watcher *w);
void sw_close(sw_watcher *w); /* NULL-safe */

#endif
