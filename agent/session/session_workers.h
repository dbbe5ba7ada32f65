/* session_workers: the processes the session daemon starts for its work (see session.h): one
 * esc-card per inserted card, and the hand-off server (esc-agent). */
#ifndef ESC_SESSION_WORKERS_H
#define ESC_SESSION_WORKERS_H

#include <stdbool.h>
#include <sys/types.h>

#define WORKERS_CARDS_MAX 16 /* pcsc-lite's PCSCLITE_MAX_READERS_CONTEXTS */

struct workers {
    const char *agent;     /* esc-agent's path */
    const char *card_prog; /* esc-card's path (session.h), or NULL: esc-agent --session-card */
    pid_t server;          /* the hand-off server, 0 when none runs */
    pid_t card[WORKERS_CARDS_MAX];
};

/* Start `esc-card --agent AGENT READER` (without esc-card: `esc-agent --session-card READER`).
 * 0, or -1 after saying why. */
int workers_card(struct workers *w, const char *reader);
/* Start the hand-off server on the listening socket l. 0, or -1 after saying why. */
int workers_server(struct workers *w, int l);
/* Reap the workers that ended (after SIGCHLD). Returns true when the server was among them. */
bool workers_reap(struct workers *w);
/* SIGTERM to every worker, and wait for them. */
void workers_stop(struct workers *w);

#endif
