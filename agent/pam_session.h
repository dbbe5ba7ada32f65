/* pam_session: the agent's side of the pam_esc hand-off (common/ipc.h).
 *
 *   esc-agent --pam         PAM-time helper: the hand-off socket is fd 0 (pam_esc made it);
 *                           serve one REQUEST and exit.
 *   esc-agent --pam-serve   listen on $XDG_RUNTIME_DIR/esc-agent/socket and serve one
 *                           hand-off after another (what the session daemon does; this mode
 *                           is the daemon-less form). Started by systemd's user instance
 *                           through config/systemd/esc-agent.socket, it takes the socket
 *                           systemd passes (LISTEN_FDS) instead of making its own.
 *
 * A hand-off runs the operation engine (agent_op + tps_op) with two callbacks that speak the
 * protocol: `ask` sends PROMPT_ECHO_ON/OFF with the TPS's own label and waits for the ANSWER
 * (the new PIN is asked as "New PIN" and "Repeat PIN", a mismatch or a length outside the
 * TPS's rules is said in an ERROR and asked again); `progress` sends PROGRESS. It ends with
 * DONE: ok or the esc_err, one sentence, and after success the new PIN and the directory user
 * ID, so that pam_esc can hand them to the next module. Every copy of a secret is wiped.
 *
 * Tests only: with ESC_TEST_SCRIPT=FILE in the environment (pam_esc's test_script= option
 * puts it there; the helper's environment is otherwise empty) the engine is replaced by the
 * script, one command per line (see pam_session.c, script_step). */
#ifndef ESC_PAM_SESSION_H
#define ESC_PAM_SESSION_H

#include "conf.h"

/* Entry point for `esc-agent --pam` / `--pam-serve`; argv[1] is the mode. Exit code: 0 when
 * the (last) hand-off ended with DONE ok, 1 otherwise, 2 on a usage error. */
int pam_session_main(int argc, char **argv);

/* Serve one hand-off on a connected socket (the session daemon calls this for each
 * connection it accepts; the socket's peer uid must already have been checked). c NULL: the
 * configuration is unusable (DONE says so). Returns the esc_err sent in DONE. */
int pam_session_serve(int fd, const struct esc_conf *c);

#endif
