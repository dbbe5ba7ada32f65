/* pe_relay: one hand-off conversation, pam_esc's side (ipc.h). Sends the REQUEST, then turns
 * each agent message into the PAM conversation until DONE, the deadline, or a broken peer:
 *   PROMPT_ECHO_ON/OFF -> a prompt with the agent's label ("LDAP User ID: ")
 *   INFO               -> PAM_TEXT_INFO (not under PAM_SILENT or quiet)
 *   PROGRESS pct text  -> PAM_TEXT_INFO "Enrolling your smart card: 40% (generating keys)"
 *                         (not under PAM_SILENT or quiet; only when the percentage changes)
 *   ERROR              -> PAM_ERROR_MSG (a step that went wrong and is asked again)
 * A conversation that fails, or an empty answer to a prompt, cancels: the agent is told
 * (ANSWER ok=0) and given until the deadline to put the card back as it was and say DONE. */
#ifndef PE_RELAY_H
#define PE_RELAY_H

#include "esc_err.h"
#include "ipc.h"

#include <security/pam_modules.h>
#include <stdbool.h>

struct pe_relay_in {
    const char *op;     /* "enroll" | "pinreset" | "renew" | "format" */
    const char *user;   /* PAM_USER, may be NULL */
    const char *reader; /* the reader the probe used, may be NULL */
    bool silent;        /* PAM_SILENT or quiet: no INFO / PROGRESS */
    long deadline_ms;
};

struct pe_relay_out {
    esc_err err;                     /* ESC_OK: DONE ok; else why */
    bool done;                       /* DONE received */
    bool cancelled;                  /* the user (or the conversation) cancelled */
    bool prompted;                   /* at least one prompt was shown */
    char sentence[IPC_TEXT_MAX + 1]; /* DONE text */
    char pin[IPC_SECRET_MAX + 1];    /* the new PIN (secret: wipe) */
    char user[IPC_NAME_MAX + 1];     /* directory user ID from DONE */
};

void pe_relay_run(pam_handle_t *pamh, int fd, const struct pe_relay_in *in,
                  struct pe_relay_out *out);

/* "Enrolling your smart card: 40% (generating keys)" into buf. */
void pe_progress_line(const char *op, unsigned pct, const char *task, char *buf, size_t cap);

#endif
