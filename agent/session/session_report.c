/* session_report: what the session daemon says about an inserted card once it is probed and
 * its profile known (events, notification), for esc-card and esc-agent --session-card alike
 * (session.h). No libcurl here: esc-card links it. */
#include "session.h"

#include "conf.h"
#include "engine/agent_op.h"
#include "events.h"
#include "ipc.h"
#include "log.h"
#include "session_notes.h"
#include "session_notify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* "notifications fail" is said once per daemon, whichever worker meets it first (see
 * SESSION_NOTIFY_FAILED). true when this one is to say it. */
static bool first_failure(bool failed)
{
    const char *rt = getenv("XDG_RUNTIME_DIR");
    char path[PATH_MAX];
    if (!rt || rt[0] != '/' ||
        snprintf(path, sizeof path, "%s/%s/%s", rt, IPC_SESSION_DIR, SESSION_NOTIFY_FAILED) >=
            (int)sizeof path)
        return failed;
    if (!failed) {
        (void)unlink(path);
        return false;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno != EEXIST;
    close(fd);
    return true;
}

static void notify(const struct probe_facts *f, const struct session_note *n)
{
    char err[300], detail[400];
    uint32_t id = 0;
    if (notify_send(n->summary, n->body, (uint8_t)n->urgency, &id, err, sizeof err) != 0) {
        if (first_failure(true))
            log_warn("notification \"%s\" not shown: %s (the event log still has it)", n->summary,
                     err);
        events_emit(&(struct event){
            .event = "notify_failed", .reader = f->reader, .code = n->kind, .detail = err});
        return;
    }
    (void)first_failure(false);
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

void session_report(const struct esc_conf *conf, const char *reader, const struct agent_op_out *o,
                    esc_err e)
{
    struct session_note notes[NOTES_MAX];
    char detail[600];
    const struct probe_facts *f = &o->facts;
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
                 o->ph_cached ? "cached" : "fetched", o->profile.source_url,
                 o->profile.issuer[0] ? o->profile.issuer : "?",
                 o->profile.operation[0] ? o->profile.operation : "?");
        events_emit(&(struct event){
            .event = "phone_home", .reader = reader, .cuid = f->cuid_hex, .detail = detail});
    } else {
        events_emit(&(struct event){.event = "phone_home_failed",
                                    .reader = reader,
                                    .cuid = f->have_cuid ? f->cuid_hex : NULL,
                                    .code = esc_err_name(e),
                                    .detail = o->sentence[0] ? o->sentence : esc_strerror(e)});
    }
    size_t n = session_notes(conf, f, e == ESC_OK ? o->profile.issuer : NULL, time(NULL), notes,
                             NOTES_MAX);
    for (size_t i = 0; i < n; i++)
        notify(f, &notes[i]);
}

void session_worker_init(struct esc_conf *conf)
{
    char err[256] = "";

    esc_log_init("esc-agent", ESC_LOG_WARN, false);
    if (conf_load(NULL, conf, err, sizeof err) != ESC_OK)
        conf_defaults(conf); /* the daemon said why at its start */
    else
        conf_apply_log_level(conf);
    (void)events_to_file(NULL); /* the daemon said so if there is none */
}
