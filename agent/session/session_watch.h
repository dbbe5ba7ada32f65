/* session_watch: the reader watcher thread of the session daemon.
 *
 * The thread owns its own PC/SC context and blocks in SCardGetStatusChange(INFINITE) over every
 * reader plus "\\?PnP?\Notification" (a reader plugged in or out ends the wait, and the list is
 * read again). What it sees goes into a small queue and wakes the main loop through an eventfd.
 * When pcscd goes away it says so, and waits without a timer for pcscd's socket to come back
 * (inotify on the socket's directory; a socket systemd keeps listening on answers at once);
 * after reconnecting it reports every card present as inserted, so the cards are seen again.
 * sw_rescan (udev saw a USB reader) and sw_stop end the wait with SCardCancel. */
#ifndef ESC_SESSION_WATCH_H
#define ESC_SESSION_WATCH_H

#include "pcsc.h"

#include <stddef.h>

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
    char reader[PCSC_READER_NAME_MAX];
    char detail[160];
};

typedef struct sw_watcher sw_watcher;

/* Start the thread. 0, or -1 (errno). The caller blocks the signals it handles first. */
int sw_start(sw_watcher **out);
/* Readable (an eventfd) when events are queued. */
int sw_fd(const sw_watcher *w);
/* Take up to max queued events, oldest first; clears the eventfd. */
size_t sw_take(sw_watcher *w, struct sw_event *out, size_t max);
/* Read the reader list again now. */
void sw_rescan(sw_watcher *w);
/* Stop and join the thread, free everything (NULL-safe). */
void sw_stop(sw_watcher *w);

#endif
