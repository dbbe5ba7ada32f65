/* handoff: the agent's side of the pam_esc hand-off (common/ipc.h).
 *
 *   esc-agent --pam         PAM-time helper: the hand-off socket is fd 0 (pam_esc made it);
 *                           serve one REQUEST and exit.
 *   esc-agent --pam-serve   listen on $XDG_RUNTIME_DIR/esc-agent/socket and serve one
 *                           hand-off after another (the daemon-less form of the session agent).
 *                           Started by systemd's user instance through
 *                           config/systemd/esc-agent.socket, it takes the socket systemd passes
 *                           (LISTEN_FDS) instead of making its own.
 *
 * A hand-off runs a runner for the REQUEST: in esc-agent the operation engine (agent_op +
 * tps_op, handoff_engine.c) with two callbacks that speak the protocol: `ask` sends
 * PROMPT_ECHO_ON/OFF with the TPS's own label and waits for the ANSWER (the new PIN is asked as
 * "New PIN" and "Repeat PIN", a mismatch or a length outside the TPS's rules is said in an ERROR
 * and asked again); `progress` sends PROGRESS. It ends with DONE: ok or the esc_err, one
 * sentence, and after success the new PIN and the directory user ID, so that pam_esc can hand
 * them to the next module (not to escctl, which asks with IPC_FLAG_NO_SECRET). escctl status
 * and list are answered too (handoff_status.c). Every copy of a secret is wiped. The tests build
 * the same server with a scripted runner instead of the engine (tests/pam/scripted_agent.c). */
#ifndef ESC_HANDOFF_H
#define ESC_HANDOFF_H

#include "conf.h"
#include "engine/tps_op.h"
#include "esc_err.h"
#include "ipc.h"

#include <stdbool.h>

/* One hand-off in progress. */
struct handoff {
    int fd;
    long deadline;
    bool silent;
    bool no_secret;  /* IPC_FLAG_NO_SECRET: escctl, DONE without the new PIN */
    bool raw_task;   /* IPC_FLAG_RAW_TASK: PROGRESS with the TPS's label */
    bool cancelled;  /* the user cancelled or pam_esc went away: ask nothing more */
    bool retry_said; /* "not accepted" was said for this round of login questions */
    int last_pct;
    char pin[TPS_SECRET_MAX];    /* the confirmed new PIN (secret) */
    char user[IPC_NAME_MAX + 1]; /* the directory user ID answered */
    char why[IPC_TEXT_MAX + 1];  /* why the hand-off stopped early, for DONE */
};

/* What serves one REQUEST; it must end the hand-off with handoff_done (or be cancelled).
 * c is NULL when esc.conf is unusable. Returns the esc_err sent in DONE. */
typedef esc_err (*handoff_runner)(struct handoff *h, const struct esc_conf *c,
                                  const struct ipc_msg *req);

/* Entry point for `esc-agent --pam` / `--pam-serve`; argv[1] is the mode. Exit code: 0 when
 * the (last) hand-off ended with DONE ok, 1 otherwise, 2 on a usage error. */
int handoff_main(int argc, char **argv, handoff_runner run);

/* Serve one hand-off on a connected socket (the caller has checked the peer's uid). */
esc_err handoff_serve(int fd, const struct esc_conf *c, handoff_runner run);

/* escctl status / list (REQUEST id IPC_REQ_STATUS): probe, one CARD per reader, DONE. Served
 * by handoff_serve itself, whatever the runner. */
esc_err handoff_run_status(struct handoff *h, const struct ipc_msg *req);

/* The real runner: the operation engine with the hand-off's ask and progress callbacks. */
esc_err handoff_run_engine(struct handoff *h, const struct esc_conf *c, const struct ipc_msg *req);

/* The conversation, for runners (handoff_conv.c). */
esc_err handoff_send_text(struct handoff *h, enum ipc_type t, const char *text); /* INFO, ERROR */
int handoff_ask(void *ctx, const struct tps_ask *q, char *out, size_t cap);      /* tps_op_ui.ask */
void handoff_progress(void *ctx, int pct, const char *task); /* tps_op_ui.progress */
void handoff_done(struct handoff *h, esc_err e, const char *sentence);
/* DONE for a hand-off the user (or pam_esc) cancelled, with the reason noted in h->why. */
void handoff_done_cancelled(struct handoff *h);

#endif
