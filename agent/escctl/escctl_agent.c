/* escctl_agent: escctl through the session agent. See escctl_agent.h. */
#include "escctl_agent.h"

#include "ipc.h"
#include "ipc_card.h"
#include "log.h"
#include "secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_MS    1000 /* a live agent accepts at once */
#define STATUS_MARGIN 3000 /* the agent's own sending time over the probe's timeout */
#define OP_MARGIN_MS  5000 /* DONE after the agent's deadline */
#define OP_DEFAULT_MS 600000

bool escctl_agent_enabled = false;

int escctl_agent_connect(void)
{
    const char *rt = getenv("XDG_RUNTIME_DIR"), *no = getenv("ESC_NO_AGENT");
    esc_err e;
    int fd;

    if (!escctl_agent_enabled || (no && strcmp(no, "1") == 0))
        return -1;
    if (!rt || rt[0] != '/') {
        log_debug("no session agent: $XDG_RUNTIME_DIR is not set");
        return -1;
    }
    e = ipc_session_connect(rt, geteuid(), ipc_now_ms() + CONNECT_MS, &fd);
    if (e != ESC_OK) {
        log_debug("no session agent in %s/%s: %s", rt, IPC_SESSION_DIR, esc_err_name(e));
        return -1;
    }
    log_info("through the session agent (%s/%s/%s)", rt, IPC_SESSION_DIR, IPC_SESSION_SOCK);
    return fd;
}

static esc_err send_request(int fd, const char *id, const char *reader, uint32_t timeout_ms,
                            uint32_t flags, long deadline)
{
    struct ipc_msg r;

    ipc_msg_init(&r, IPC_REQUEST);
    if (ipc_set_str(&r, IPC_F_ID, id) != ESC_OK ||
        (reader && reader[0] && ipc_set_str(&r, IPC_F_READER, reader) != ESC_OK))
        return ESC_ERR_ARG;
    ipc_set_num(&r, IPC_F_TIMEOUT, timeout_ms);
    ipc_set_num(&r, IPC_F_FLAGS, flags);
    return ipc_send(fd, &r, deadline);
}

int escctl_agent_status(const char *reader, unsigned timeout_ms, struct probe_facts *f, size_t max,
                        size_t *n)
{
    long deadline = ipc_now_ms() + (long)timeout_ms + STATUS_MARGIN;
    struct ipc_msg m;
    esc_err e;
    int fd = escctl_agent_connect();

    *n = 0;
    if (fd < 0)
        return -1;
    e = send_request(fd, IPC_REQ_STATUS, reader, timeout_ms, IPC_FLAG_NO_SECRET, deadline);
    while (e == ESC_OK && (e = ipc_recv(fd, &m, deadline)) == ESC_OK) {
        if (m.type == IPC_DONE) {
            e = m.ok ? ESC_OK : ESC_ERR_AGENT_UNAVAILABLE;
            break;
        }
        if (m.type != IPC_CARD || *n >= max || ipc_card_to_facts(&m, &f[*n]) != ESC_OK)
            e = ESC_ERR_PROTOCOL;
        else
            (*n)++;
    }
    close(fd);
    if (e != ESC_OK || *n == 0) {
        log_debug("the session agent gave no status (%s); probing in-process", esc_err_name(e));
        return -1;
    }
    return 0;
}

/* ---- an operation ---- */

struct relay {
    const struct escctl_op_args *o;
    const char *pw, *pin;
    struct term_ui *t;
    bool pw_used, user_used, pin_used;
    bool last_preset;     /* the last question was answered from a preset */
    const char *rejected; /* a preset answer was refused: the sentence, as in-process */
    char last_error[IPC_TEXT_MAX + 1];
};

/* The answer to one prompt: a preset one, or the terminal's. NULL ok=0 (cancel). */
static bool answer_for(struct relay *r, const struct ipc_msg *m, char *out, size_t cap)
{
    const char *id = ipc_has(m, IPC_F_ID) ? m->id : "";
    const char *preset = NULL;
    bool *used = NULL;

    if (strcmp(id, "UID") == 0 && r->o->user) {
        preset = r->o->user;
        used = &r->user_used;
    } else if (strcmp(id, "PASSWORD") == 0 && r->pw) {
        preset = r->pw;
        used = &r->pw_used;
    } else if ((strcmp(id, "new_pin") == 0 || strcmp(id, "new_pin_again") == 0) && r->pin) {
        preset = r->pin;
        used = strcmp(id, "new_pin") == 0 ? &r->pin_used : NULL;
    }
    r->last_preset = preset != NULL;
    if (preset) {
        if (used && *used) { /* a preset answer was refused: asking again would loop */
            r->rejected = used == &r->pin_used && r->last_error[0]
                              ? r->last_error
                              : "The directory rejected the user ID or password.";
            return false;
        }
        if (used)
            *used = true;
        return snprintf(out, cap, "%s", preset) < (int)cap;
    }
    struct tps_ask q = {.kind = m->type == IPC_PROMPT_ECHO_ON ? TPS_ASK_TEXT : TPS_ASK_SECRET,
                        .id = id,
                        .label = m->text};
    return term_ask(r->t, &q, out, cap) == 0;
}

static esc_err relay_prompt(int fd, struct relay *r, const struct ipc_msg *m, long deadline)
{
    char ans[IPC_SECRET_MAX + 1];
    struct ipc_msg a;
    bool ok = answer_for(r, m, ans, sizeof ans);
    esc_err e;

    ipc_msg_init(&a, IPC_ANSWER);
    ipc_set_num(&a, IPC_F_OK, ok);
    if (ok)
        ipc_set_str(&a, IPC_F_SECRET, ans);
    e = ipc_send(fd, &a, deadline);
    ipc_msg_wipe(&a);
    secret_wipe(ans, sizeof ans);
    return e;
}

int escctl_agent_op(const char *op, const struct escctl_op_args *o, const char *pw, const char *pin,
                    unsigned timeout_ms, struct term_ui *t, esc_err *e, char *sentence, size_t cap)
{
    struct relay r = {.o = o, .pw = pw, .pin = pin, .t = t};
    uint32_t flags = IPC_FLAG_NO_SECRET | IPC_FLAG_RAW_TASK | (t->quiet ? IPC_FLAG_SILENT : 0);
    long deadline;
    struct ipc_msg m;
    esc_err rc;
    int fd;

    if (!timeout_ms)
        timeout_ms = OP_DEFAULT_MS;
    deadline = ipc_now_ms() + (long)timeout_ms + OP_MARGIN_MS;
    fd = escctl_agent_connect();
    if (fd < 0)
        return 0;
    if (send_request(fd, op, o->reader, timeout_ms, flags, deadline) != ESC_OK) {
        log_debug("the session agent took no request; running in-process");
        close(fd);
        return 0;
    }
    *e = ESC_ERR_AGENT_UNAVAILABLE;
    sentence[0] = '\0';
    for (;;) {
        rc = ipc_recv(fd, &m, deadline);
        if (rc != ESC_OK) {
            *e = rc == ESC_ERR_TIMEOUT ? ESC_ERR_TIMEOUT : ESC_ERR_AGENT_UNAVAILABLE;
            snprintf(sentence, cap, "The session agent stopped answering (%s).", esc_err_name(rc));
            break;
        }
        if (m.type == IPC_PROMPT_ECHO_ON || m.type == IPC_PROMPT_ECHO_OFF) {
            if (relay_prompt(fd, &r, &m, deadline) != ESC_OK)
                log_debug("the session agent went away during a question");
        } else if (m.type == IPC_INFO || m.type == IPC_ERROR) {
            if (m.type == IPC_ERROR)
                snprintf(r.last_error, sizeof r.last_error, "%s", m.text);
            /* what a preset answer got is said once, by the sentence (as in-process) */
            if ((m.type == IPC_ERROR && !r.last_preset) || (m.type == IPC_INFO && !t->quiet)) {
                term_progress_done(t);
                fprintf(stderr, "%s\n", m.text);
            }
        } else if (m.type == IPC_PROGRESS) {
            term_progress(t, m.pct, ipc_has(&m, IPC_F_TEXT) ? m.text : "");
        } else if (m.type == IPC_DONE) {
            /* the new PIN never comes back (IPC_FLAG_NO_SECRET); were it there, it is wiped
             * below, never shown */
            *e = m.ok ? ESC_OK : (esc_err)m.code;
            if (!m.ok && *e == ESC_OK)
                *e = ESC_ERR_INTERNAL;
            snprintf(sentence, cap, "%s", r.rejected && !m.ok ? r.rejected : m.text);
            break;
        } else {
            *e = ESC_ERR_PROTOCOL;
            snprintf(sentence, cap, "The session agent sent an unexpected %s message.",
                     ipc_type_name(m.type));
            break;
        }
        ipc_msg_wipe(&m);
    }
    ipc_msg_wipe(&m);
    close(fd);
    return 1;
}
