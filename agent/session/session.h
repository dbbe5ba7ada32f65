/* session: the session daemon, `esc-agent --session` (esc-agent(8) "SESSION DAEMON").
 *
 * One per user (a lock in $XDG_RUNTIME_DIR/esc-agent/). It
 *   - watches every reader through pcscd (session_watch.c: a thread blocked in
 *     SCardGetStatusChange(INFINITE) over every reader and the PnP pseudo-reader, so readers
 *     plugged in later are watched; it waits for pcscd to come back when it goes away);
 *   - listens to udev for USB CCID readers where udev runs (session_udev.c);
 *   - on insertion probes the card, phones home (through the cache) and tells the user what the
 *     card needs (session_card.c, session_notes.c, session_notify.c: freedesktop
 *     Notifications on the session bus);
 *   - keeps the event log (common/events.h);
 *   - serves pam_esc's hand-offs on $XDG_RUNTIME_DIR/esc-agent/socket, or on the socket systemd
 *     passes (socket activation), as `--pam-serve` does.
 * Idle, the main thread sleeps in poll(2) without a timeout and the watcher in pcscd's socket:
 * no timer wakes either. */
#ifndef ESC_SESSION_H
#define ESC_SESSION_H

#include "conf.h"

/* Serve one pam_esc hand-off on a connected socket whose peer has been checked (esc-agent
 * passes the hand-off server, handoff/handoff.h, so that the fronts stay apart). c is NULL
 * when esc.conf is unusable. */
typedef void (*session_serve_fn)(int fd, const struct esc_conf *c);

/* `esc-agent --session`. Returns the exit code: 0 after SIGTERM/SIGINT, 1 when it cannot start
 * (another daemon runs for this user, no runtime directory, ...). */
int session_main(session_serve_fn serve);

#endif
