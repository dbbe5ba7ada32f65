/* pe_relay: relay the agent's messages to the PAM conversation (see pe_relay.h). */
#include "pe_relay.h"

#include "ops.h"
#include "secret.h"

#include <security/pam_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* After a cancel the agent gets this long (at most) to restore the card and say DONE. */
#define CANCEL_GRACE_MS 15000

static const char *op_verb(const char *op)
{
    const struct esc_op *o = esc_op_find(op, strlen(op));
    return o ? o->doing : "Setting up your smart card";
}

void pe_progress_line(const char *op, unsigned pct, const char *task, char *buf, size_t cap)
{
    if (task && task[0])
        snprintf(buf, cap, "%s: %u%% (%s)", op_verb(op), pct, task);
    else
        snprintf(buf, cap, "%s: %u%%", op_verb(op), pct);
}

/* Ask one question. Returns the answer (caller wipes and frees) or NULL: cancelled. */
static char *ask(pam_handle_t *pamh, int style, const char *label)
{
    size_t n = strlen(label);
    const char *sep = ": "; /* "LDAP User ID" -> "LDAP User ID: " */

    if (n >= 2 && strcmp(label + n - 2, ": ") == 0)
        sep = "";
    else if (n >= 1 && label[n - 1] == ':')
        sep = " ";
    char *resp = NULL;

    if (pam_prompt(pamh, style, &resp, "%s%s", label, sep) != PAM_SUCCESS || !resp) {
        secret_free_str(resp);
        return NULL;
    }
    if (resp[0] == '\0') { /* an empty answer is how a greeter's Cancel often arrives */
        free(resp);
        return NULL;
    }
    return resp;
}

static esc_err answer(int fd, const char *resp, long deadline)
{
    struct ipc_msg a;
    esc_err e;

    ipc_msg_init(&a, IPC_ANSWER);
    ipc_set_num(&a, IPC_F_OK, resp != NULL);
    if (resp)
        ipc_set_str(&a, IPC_F_SECRET, resp);
    e = ipc_send(fd, &a, deadline);
    ipc_msg_wipe(&a);
    return e;
}

static esc_err send_request(int fd, const struct pe_relay_in *in)
{
    struct ipc_msg r;

    ipc_msg_init(&r, IPC_REQUEST);
    ipc_set_str(&r, IPC_F_ID, in->op);
    if (in->user && in->user[0])
        ipc_set_str(&r, IPC_F_USER, in->user);
    if (in->reader && in->reader[0])
        ipc_set_str(&r, IPC_F_READER, in->reader);
    ipc_set_num(&r, IPC_F_TIMEOUT, (uint32_t)ipc_ms_left(in->deadline_ms));
    ipc_set_num(&r, IPC_F_FLAGS, in->silent ? IPC_FLAG_SILENT : 0);
    return ipc_send(fd, &r, in->deadline_ms);
}

/* A prompt from the agent: ask the user (unless already cancelled) and answer. */
static esc_err on_prompt(pam_handle_t *pamh, int fd, const struct ipc_msg *m, long deadline,
                         struct pe_relay_out *out)
{
    char *resp = NULL;
    esc_err e;

    if (!out->cancelled) {
        out->prompted = true;
        resp = ask(pamh, m->type == IPC_PROMPT_ECHO_ON ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF,
                   m->text);
        if (resp && strlen(resp) > IPC_SECRET_MAX) {
            pam_error(pamh, "That answer is too long.");
            secret_free_str(resp);
            resp = NULL;
        }
        if (!resp)
            out->cancelled = true;
    }
    e = answer(fd, resp, deadline);
    secret_free_str(resp);
    return e;
}

static void on_done(const struct ipc_msg *m, struct pe_relay_out *out)
{
    out->done = true;
    out->err = m->ok ? ESC_OK : (m->code != ESC_OK ? (esc_err)m->code : ESC_ERR_INTERNAL);
    snprintf(out->sentence, sizeof out->sentence, "%s", m->text);
    if (m->ok && ipc_has(m, IPC_F_SECRET))
        snprintf(out->pin, sizeof out->pin, "%s", m->secret);
    if (m->ok && ipc_has(m, IPC_F_USER))
        snprintf(out->user, sizeof out->user, "%s", m->user);
}

void pe_relay_run(pam_handle_t *pamh, int fd, const struct pe_relay_in *in,
                  struct pe_relay_out *out)
{
    struct ipc_msg m;
    long deadline = in->deadline_ms;
    int last_pct = -1;
    bool heard = false;
    char line[IPC_TEXT_MAX + 96];

    memset(out, 0, sizeof *out);
    out->err = send_request(fd, in);
    if (out->err != ESC_OK) {
        out->err = out->err == ESC_ERR_TIMEOUT ? ESC_ERR_TIMEOUT : ESC_ERR_AGENT_UNAVAILABLE;
        return;
    }
    while (!out->done) {
        esc_err e = ipc_recv(fd, &m, deadline);
        if (e != ESC_OK) {
            /* nothing heard at all: the helper never came up */
            out->err = e == ESC_ERR_IO && !heard ? ESC_ERR_AGENT_UNAVAILABLE : e;
            if (e == ESC_ERR_IO && heard)
                out->err = ESC_ERR_PROTOCOL; /* hung up without DONE */
            break;
        }
        heard = true;
        switch (m.type) {
        case IPC_INFO:
            if (!in->silent && !out->cancelled)
                pam_info(pamh, "%s", m.text);
            break;
        case IPC_ERROR:
            if (!out->cancelled)
                pam_error(pamh, "%s", m.text);
            break;
        case IPC_PROGRESS:
            if (!in->silent && !out->cancelled && (int)m.pct != last_pct) {
                pe_progress_line(in->op, m.pct, m.text, line, sizeof line);
                pam_info(pamh, "%s", line);
            }
            last_pct = m.pct;
            break;
        case IPC_PROMPT_ECHO_ON:
        case IPC_PROMPT_ECHO_OFF:
            e = on_prompt(pamh, fd, &m, deadline, out);
            if (out->cancelled && deadline > ipc_now_ms() + CANCEL_GRACE_MS)
                deadline = ipc_now_ms() + CANCEL_GRACE_MS;
            if (e != ESC_OK)
                out->err = e == ESC_ERR_TIMEOUT ? e : ESC_ERR_PROTOCOL;
            break;
        case IPC_DONE:
            on_done(&m, out);
            break;
        default: /* REQUEST / ANSWER from the agent: not its to send */
            out->err = ESC_ERR_PROTOCOL;
            break;
        }
        ipc_msg_wipe(&m);
        if (out->err != ESC_OK && !out->done)
            break;
    }
    ipc_msg_wipe(&m);
    secret_wipe(line, sizeof line);
    if (out->cancelled && !out->done)
        out->err = ESC_ERR_CANCELLED;
}
