/* session_notes: what the session daemon tells the user about an inserted card, and how to
 * get done what the card needs. Pure: the card's facts and esc.conf in, sentences out. */
#ifndef ESC_SESSION_NOTES_H
#define ESC_SESSION_NOTES_H

#include "conf.h"
#include "probe.h"

#include <stddef.h>
#include <time.h>

#define NOTES_MAX 3

enum note_urgency { NOTE_LOW = 0, NOTE_NORMAL = 1, NOTE_CRITICAL = 2 }; /* the spec's bytes */

struct session_note {
    const char *kind; /* setup, pin_tries, expiring, pin_locked, expired, unreadable */
    enum note_urgency urgency;
    char summary[128];
    char body[700];
};

/* The notes for a card with facts `f` at `now` (issuer: the phone-home profile's issuer name,
 * or NULL): a blank or formatted card (what it needs, and how: unlock the locked screen with it
 * when esc.conf offers that at login, or `escctl enroll`); an enrolled card whose certificates
 * all expire within renew_days, or whose PIN has pin_warn_tries tries left or fewer; a locked
 * PIN; expired certificates; a card that cannot be read. An enrolled card in good order gets
 * none. Returns how many were written (at most max). */
size_t session_notes(const struct esc_conf *c, const struct probe_facts *f, const char *issuer,
                     time_t now, struct session_note *out, size_t max);

#endif
