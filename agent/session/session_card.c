/* session_card: a card inserted in a running session (see session_card.h). */
#include "session_card.h"

#include "engine/agent_op.h"
#include "events.h"
#include "log.h"
#include "session_notes.h"
#include "session_notify.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void notify(struct session_state *s, const struct probe_facts *f,
                   const struct session_note *n)
{
    char err[300], detail[400];
    uint32_t id = 0;
    if (notify_send(n->summary, n->body, (uint8_t)n->urgency, &id, err, sizeof err) != 0) {
        if (!s->bus_missing_said)
            log_warn("notification \"%s\" not shown: %s (the event log still has it)", n->summary,
                     err);
        s->bus_missing_said = true;
        events_emit(&(struct event){
            .event = "notify_failed", .reader = f->reader, .code = n->kind, .detail = err});
        return;
    }
    s->bus_missing_said = false;
    snprintf(detail, sizeof detail, "%s (notification %u)", n->summary, (unsigned)id);
    events_emit(&(struct event){.event = "notified",
                                .reader = f->reader,
                                .state = probe_state_name(f->state),
                                .code = n->kind,
                                .detail = detail});
}

/* The card's facts as one sentence for the insert event (the state has its own field). */
static void describe(const struct probe_facts *f, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    if (f->pin_tries_left >= 0)
        o += (size_t)snprintf(out, cap, "PIN tries left %d", f->pin_tries_left);
    if (f->not_after > 0 && o < cap) {
        char d[32];
        time_t na = (time_t)f->not_after;
        struct tm tm;
        if (gmtime_r(&na, &tm) && strftime(d, sizeof d, "%Y-%m-%d", &tm))
            o += (size_t)snprintf(out + o, cap - o, "%scertificates valid until %s", o ? ", " : "",
                                  d);
    }
    if (f->state == PROBE_ERROR && o < cap)
        snprintf(out + o, cap - o, "%s%s", o ? ", " : "", esc_strerror(f->err));
}

void session_card_inserted(struct session_state *s, const char *reader)
{
    static struct agent_op_out out; /* large; one card at a time */
    struct session_note notes[NOTES_MAX];
    char detail[600];
    const struct probe_facts *f = &out.facts;
    esc_err e;

    /* libcurl's TLS library costs memory: set up only once a card needs it (main thread) */
    if (!s->curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
        s->curl_ready = true;
    /* probe, then phone home through the cache (agent_op: the same steps an operation takes) */
    e = agent_phone_home(s->conf, reader, NULL, false, false, &out);
    if (f->state == PROBE_NO_CARD || f->state == PROBE_NO_READER)
        return; /* gone again before we looked: its removal follows */
    if (f->state == PROBE_NO_PCSCD)
        return; /* the watcher reports pcscd */
    describe(f, detail, sizeof detail);
    events_emit(&(struct event){.event = "insert",
                                .reader = reader,
                                .state = probe_state_name(f->state),
                                .cuid = f->have_cuid ? f->cuid_hex : NULL,
                                .detail = detail[0] ? detail : NULL});
    if (f->state == PROBE_ERROR) {
        events_emit(&(struct event){.event = "card_error",
                                    .reader = reader,
                                    .code = esc_err_name(f->err),
                                    .detail = esc_strerror(f->err)});
    } else if (e == ESC_OK) {
        snprintf(detail, sizeof detail, "%s profile from %.200s: issuer %.100s, TPS %.200s",
                 out.ph_cached ? "cached" : "fetched", out.profile.source_url,
                 out.profile.issuer[0] ? out.profile.issuer : "?",
                 out.profile.operation[0] ? out.profile.operation : "?");
        events_emit(&(struct event){
            .event = "phone_home", .reader = reader, .cuid = f->cuid_hex, .detail = detail});
    } else {
        events_emit(&(struct event){.event = "phone_home_failed",
                                    .reader = reader,
                                    .cuid = f->have_cuid ? f->cuid_hex : NULL,
                                    .code = esc_err_name(e),
                                    .detail = out.sentence[0] ? out.sentence : esc_strerror(e)});
    }
    size_t n = session_notes(s->conf, f, e == ESC_OK ? out.profile.issuer : NULL, time(NULL), notes,
                             NOTES_MAX);
    for (size_t i = 0; i < n; i++)
        notify(s, f, &notes[i]);
}
