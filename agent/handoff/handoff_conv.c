/* handoff_conv: the hand-off's side of the conversation: questions, progress and DONE as
 * messages of common/ipc.h. See handoff.h. */
#include "handoff.h"

#include "log.h"
#include "secret.h"

#include <stdio.h>
#include <string.h>

#define PIN_TRIES 3 /* New PIN / Repeat PIN rounds before giving up */

esc_err handoff_send_text(struct handoff *h, enum ipc_type t, const char *text)
{
    struct ipc_msg m;
    esc_err e;

    ipc_msg_init(&m, t);
    ipc_set_str(&m, IPC_F_TEXT, text);
    e = ipc_send(h->fd, &m, h->deadline);
    if (e != ESC_OK)
        h->cancelled = true;
    return e;
}

/* Ask one question through pam_esc. 0 and out filled, or -1 (cancelled / gone). */
static int prompt(struct handoff *h, bool echo, const char *id, const char *label, char *out,
                  size_t cap)
{
    struct ipc_msg m;
    int rc = -1;

    if (h->cancelled)
        return -1;
    ipc_msg_init(&m, echo ? IPC_PROMPT_ECHO_ON : IPC_PROMPT_ECHO_OFF);
    ipc_set_str(&m, IPC_F_TEXT, label);
    if (id)
        ipc_set_str(&m, IPC_F_ID, id);
    if (ipc_send(h->fd, &m, h->deadline) != ESC_OK || ipc_recv(h->fd, &m, h->deadline) != ESC_OK ||
        m.type != IPC_ANSWER)
        goto out;
    if (!m.ok || !m.secret[0] || strlen(m.secret) >= cap)
        goto out;
    memcpy(out, m.secret, strlen(m.secret) + 1);
    rc = 0;
out:
    if (rc != 0) {
        h->cancelled = true;
        log_info("hand-off: no answer to \"%s\"", label);
    }
    ipc_msg_wipe(&m);
    return rc;
}

/* "New PIN (4-8 characters)" then "Repeat PIN", until both agree and the length is right. */
static int ask_new_pin(struct handoff *h, const struct tps_ask *q, char *out, size_t cap)
{
    char first[TPS_SECRET_MAX], again[TPS_SECRET_MAX], label[96], msg[160];
    int rc = -1;

    if (q->max_len)
        snprintf(label, sizeof label, "New PIN (%zu-%zu characters)", q->min_len, q->max_len);
    else
        snprintf(label, sizeof label, "New PIN");
    for (int round = 0; round < PIN_TRIES && rc != 0; round++) {
        size_t n;
        if (prompt(h, false, "new_pin", label, first, sizeof first) != 0)
            break;
        n = strlen(first);
        if (n < q->min_len || (q->max_len && n > q->max_len) || n >= cap) {
            snprintf(msg, sizeof msg, "The PIN must be %zu to %zu characters long.", q->min_len,
                     q->max_len);
            handoff_send_text(h, IPC_ERROR, msg);
            continue;
        }
        if (prompt(h, false, "new_pin_again", "Repeat PIN", again, sizeof again) != 0)
            break;
        if (strcmp(first, again) != 0) {
            handoff_send_text(h, IPC_ERROR, "The two PINs do not match; please try again.");
            continue;
        }
        memcpy(out, first, n + 1);
        snprintf(h->pin, sizeof h->pin, "%s", first);
        rc = 0;
    }
    if (rc != 0 && !h->cancelled) {
        snprintf(h->why, sizeof h->why, "No new PIN was chosen; the card was not changed.");
        h->cancelled = true;
    }
    secret_wipe(first, sizeof first);
    secret_wipe(again, sizeof again);
    return rc;
}

int handoff_ask(void *ctx, const struct tps_ask *q, char *out, size_t cap)
{
    struct handoff *h = ctx;
    const char *label = q->label && q->label[0] ? q->label : q->id;

    if (q->kind == TPS_ASK_NEW_PIN)
        return ask_new_pin(h, q, out, cap);
    /* the TPS marks every question of a repeated login round: say it once per round */
    if (q->retry && !h->retry_said && !h->cancelled)
        handoff_send_text(h, IPC_ERROR,
                          "The user ID or password was not accepted; please try again.");
    h->retry_said = q->retry;
    if (prompt(h, q->kind == TPS_ASK_TEXT, q->id, label ? label : "Answer", out, cap) != 0)
        return -1;
    if (q->kind == TPS_ASK_TEXT && (!h->user[0] || (q->id && strcmp(q->id, "UID") == 0)))
        snprintf(h->user, sizeof h->user, "%s", out);
    return 0;
}

/* What a TPS progress label means to a user at a login screen (labels: tps-protocol.md §6);
 * any other label is shown as tps_task_label() spells it. */
static void task_phrase(const char *task, char *out, size_t cap)
{
    static const struct {
        const char *label, *phrase;
    } map[] = {
        {"PROGRESS_APPLET_BLOCK", "loading the card program"},
        {"PROGRESS_PROCESS_PROFILE", "preparing"},
        {"PROGRESS_START_PIN_RESET", "preparing"},
        {"PROGRESS_PIN_RESET_RESOLVE_PROFILE", "preparing"},
        {"PROGRESS_KEY_GENERATION", "generating keys"},
        {"PROGRESS_WRITE_OBJECTS", "writing certificates"},
        {"PROGRESS_ISSUER_INFO", "writing issuer information"},
        {"PROGRESS_SET_LIFECYCLE", "finishing"},
        {"PROGRESS_DONE", "card program ready"}, /* also ends the format an enroll may start with */
        {"PROGRESS_DONE_ENROLLMENT", "done"},
        {"PROGRESS_DONE_RENEWAL", "done"},
        {"PROGRESS_PIN_RESET_COMPLETE", "done"},
    };
    for (size_t i = 0; task && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(task, map[i].label) == 0) {
            snprintf(out, cap, "%s", map[i].phrase);
            return;
        }
    tps_task_label(task, out, cap);
}

void handoff_progress(void *ctx, int pct, const char *task)
{
    struct handoff *h = ctx;
    struct ipc_msg m;
    char label[64];

    if (h->silent || h->cancelled)
        return;
    pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
    if (pct == h->last_pct)
        return;
    h->last_pct = pct;
    if (h->raw_task) /* escctl words the TPS's label itself, as in-process */
        snprintf(label, sizeof label, "%s", task ? task : "");
    else
        task_phrase(task, label, sizeof label);
    ipc_msg_init(&m, IPC_PROGRESS);
    ipc_set_num(&m, IPC_F_PCT, (uint32_t)pct);
    if (label[0])
        ipc_set_str(&m, IPC_F_TEXT, label);
    if (ipc_send(h->fd, &m, h->deadline) != ESC_OK)
        h->cancelled = true;
}

void handoff_done(struct handoff *h, esc_err e, const char *sentence)
{
    struct ipc_msg m;

    ipc_msg_init(&m, IPC_DONE);
    ipc_set_num(&m, IPC_F_OK, e == ESC_OK);
    ipc_set_num(&m, IPC_F_CODE, (uint32_t)e);
    ipc_set_str(&m, IPC_F_TEXT, sentence && sentence[0] ? sentence : esc_strerror(e));
    if (e == ESC_OK && h->pin[0] && !h->no_secret)
        ipc_set_str(&m, IPC_F_SECRET, h->pin);
    if (e == ESC_OK && h->user[0])
        ipc_set_str(&m, IPC_F_USER, h->user);
    if (ipc_send(h->fd, &m, h->deadline) != ESC_OK)
        log_info("hand-off: pam_esc left before DONE");
    ipc_msg_wipe(&m);
}

void handoff_done_cancelled(struct handoff *h)
{
    handoff_done(h, ESC_ERR_CANCELLED,
                 h->why[0] ? h->why
                           : "Setting up your smart card was cancelled; the card was left as it "
                             "was.");
}
