/* session: the session daemon, `esc-agent --session` (esc-agent(8) "SESSION DAEMON").
 *
 * esc-agent --session execs esc-session, the watcher: a small program (libc and libudev, no
 * libcurl, NSS, libxml2, OpenSSL, sd-bus or libpcsclite) that stays for the whole session, one
 * per user (a lock in $XDG_RUNTIME_DIR/esc-agent/). On its one thread it waits in poll(2) with
 * no timeout on:
 *   - pcscd's event notification (session_watch.c: every reader, readers plugged in later, and
 *     pcscd going away and coming back);
 *   - udev's monitor for USB CCID readers where udev runs (session_udev.c);
 *   - the hand-off socket $XDG_RUNTIME_DIR/esc-agent/socket (or the one systemd passes);
 *   - a signalfd (SIGTERM, SIGINT, SIGCHLD).
 * The work is done by programs started for it (session_workers.c):
 *   - a card inserted: `esc-card --agent PATH READER` (main_card.c, session_light.c) probes it
 *     and, when the card's phone-home profile is cached, logs the events and notifies the user
 *     (session_report.c), then exits: libc, libpcsclite, libz and libsystemd only, so a card
 *     costs no start-up of libcurl, NSS, libxml2 and OpenSSL (esc-agent's 46 libraries were
 *     most of a card's CPU, and 8 cards at once waited for each other's). Anything it cannot
 *     tell alone (no cached profile, no CUID, a card that did not answer) it hands to
 *     `esc-agent --session-card READER` by exec: the same steps with phone home over the
 *     network (session_card.c). One process per card: cards inserted together are probed side
 *     by side;
 *   - a connection on the socket: `esc-agent --pam-serve --idle-exit SECONDS` is handed the
 *     listening socket (as systemd would hand it) and serves pam_esc's hand-offs and escctl's
 *     requests until it has been idle that long; meanwhile the watcher leaves the socket alone.
 *     So a run of escctl calls pays esc-agent's start-up once, and an idle session holds only
 *     the watcher.
 * The watcher keeps the event log for what it sees itself (readers, removals, pcscd). */
#ifndef ESC_SESSION_H
#define ESC_SESSION_H

#include "esc_err.h"

/* How long the hand-off server stays after its last request. */
#define SESSION_SERVER_IDLE_S 60

/* esc-session's main loop; agent: the path of esc-agent, started for the work. Returns the
 * exit code: 0 after SIGTERM/SIGINT, 1 when it cannot start (another daemon runs for this
 * user, no runtime directory, ...). */
int session_main(const char *agent);

/* `esc-agent --session-card READER`: the work for one inserted card (session_card.c). Exit
 * code 0, or 1 when it could not run. */
int session_card_main(const char *reader);

struct esc_conf;
struct agent_op_out;
/* A card worker's start (esc-card, esc-agent --session-card): the log, esc.conf (its defaults
 * when it cannot be read: the daemon said why), the event log. */
void session_worker_init(struct esc_conf *conf);

/* The events and notifications for an inserted card, probed, its phone home done (e: its
 * outcome): session_report.c. */
void session_report(const struct esc_conf *conf, const char *reader, const struct agent_op_out *out,
                    esc_err e);

/* esc-card's work without the network (session_light.c): SESSION_LIGHT_DONE when the card
 * was reported from its cached profile, SESSION_LIGHT_GONE when there is nothing to report
 * (the card went again, no pcscd), SESSION_LIGHT_FULL when esc-agent --session-card must do
 * it (no cached profile, no CUID, a card that did not answer as it should). */
enum session_light { SESSION_LIGHT_DONE, SESSION_LIGHT_GONE, SESSION_LIGHT_FULL };
enum session_light session_light(const struct esc_conf *conf, const char *reader);

/* The marker that says "notifications fail" was logged already: the first worker that fails
 * to notify creates it (O_EXCL) and warns, the next that succeeds removes it; the watcher
 * removes it at its start. */
#define SESSION_NOTIFY_FAILED "notify-failed"

#endif
