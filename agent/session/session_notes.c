/* session_notes: the sentences of the session daemon's notifications (see session_notes.h). */
#include "session_notes.h"

#include <stdio.h>
#include <string.h>

#define DAY 86400

static struct session_note *add(struct session_note *out, size_t max, size_t *n, const char *kind,
                                enum note_urgency u)
{
    if (*n >= max)
        return NULL;
    struct session_note *s = &out[(*n)++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->urgency = u;
    return s;
}

/* "lock the screen and unlock it with the card ..., or run `escctl CMD`" when pam_esc offers
 * the operation (login_operations), else only the command. */
static void how(char *out, size_t cap, bool at_unlock, const char *cmd)
{
    if (at_unlock)
        snprintf(out, cap,
                 "Lock the screen and unlock it with the card: you will be asked for your "
                 "directory user ID and password, then for a new PIN. Or run `escctl %s` in a "
                 "terminal.",
                 cmd);
    else
        snprintf(out, cap, "Run `escctl %s` in a terminal.", cmd);
}

/* how() for the operation the card's state calls for (common/ops.h) */
static void offered(char *out, size_t cap, const struct esc_conf *c, enum probe_state s)
{
    const struct esc_op *o = esc_op_get(esc_op_for_state(s));
    if (o)
        how(out, cap, (c->login_operations & o->bit) != 0, o->command);
}

size_t session_notes(const struct esc_conf *c, const struct probe_facts *f, const char *issuer,
                     time_t now, struct session_note *out, size_t max)
{
    struct session_note *s;
    char way[300], from[300] = "";
    size_t n = 0;

    if (issuer && *issuer)
        snprintf(from, sizeof from, " (issued by %s)", issuer);
    switch (f->state) {
    case PROBE_NO_APPLET:
    case PROBE_UNINITIALIZED:
        if (!(s = add(out, max, &n, "setup", NOTE_NORMAL)))
            break;
        offered(way, sizeof way, c, f->state);
        snprintf(s->summary, sizeof s->summary, "Smart card needs to be set up");
        snprintf(s->body, sizeof s->body, "The card in %s%s is %s: it needs to be enrolled. %s",
                 f->reader, from,
                 f->state == PROBE_NO_APPLET ? "blank" : "formatted but not enrolled", way);
        break;
    case PROBE_PIN_LOCKED:
        if (!(s = add(out, max, &n, "pin_locked", NOTE_CRITICAL)))
            break;
        offered(way, sizeof way, c, f->state);
        snprintf(s->summary, sizeof s->summary, "Smart card PIN is locked");
        snprintf(s->body, sizeof s->body,
                 "The PIN of the card in %s is locked after too many wrong PINs. %s", f->reader,
                 way);
        break;
    case PROBE_EXPIRED:
        if (!(s = add(out, max, &n, "expired", NOTE_CRITICAL)))
            break;
        snprintf(s->summary, sizeof s->summary, "Smart card certificates have expired");
        snprintf(s->body, sizeof s->body,
                 "The certificates on the card in %s have expired: it no longer logs you in. "
                 "Run `escctl renew` in a terminal to renew them.",
                 f->reader);
        break;
    case PROBE_ERROR:
        if (!(s = add(out, max, &n, "unreadable", NOTE_NORMAL)))
            break;
        snprintf(s->summary, sizeof s->summary, "Smart card cannot be read");
        snprintf(s->body, sizeof s->body,
                 "The card in %s could not be read: %s. Take it out and insert it again; "
                 "`escctl diag` tells more.",
                 f->reader, esc_strerror(f->err));
        break;
    case PROBE_ENROLLED:
        if (c->pin_warn_tries > 0 && f->pin_tries_left > 0 &&
            (unsigned)f->pin_tries_left <= c->pin_warn_tries &&
            (s = add(out, max, &n, "pin_tries", NOTE_NORMAL))) {
            snprintf(s->summary, sizeof s->summary, "Smart card PIN: %d %s left", f->pin_tries_left,
                     f->pin_tries_left == 1 ? "try" : "tries");
            snprintf(s->body, sizeof s->body,
                     "The PIN of the card in %s has %d %s left; after that it is locked. If you "
                     "forgot it, `escctl reset-pin` sets a new one with your directory password.",
                     f->reader, f->pin_tries_left, f->pin_tries_left == 1 ? "try" : "tries");
        }
        if (c->renew_days > 0 && f->not_after > 0 &&
            f->not_after - (int64_t)now <= (int64_t)c->renew_days * DAY &&
            (s = add(out, max, &n, "expiring", NOTE_NORMAL))) {
            int64_t left = f->not_after - (int64_t)now;
            long days = (long)((left + DAY - 1) / DAY);
            char date[32] = "?";
            time_t na = (time_t)f->not_after;
            struct tm tm;
            if (localtime_r(&na, &tm))
                strftime(date, sizeof date, "%Y-%m-%d", &tm);
            snprintf(s->summary, sizeof s->summary, "Smart card certificates expire in %ld %s",
                     days, days == 1 ? "day" : "days");
            snprintf(s->body, sizeof s->body,
                     "The certificates on the card in %s expire on %s. Renew them before then: "
                     "run `escctl renew` in a terminal.",
                     f->reader, date);
        }
        break;
    default: /* nothing in the reader, or nothing to talk to */
        break;
    }
    return n;
}
