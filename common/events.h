/* events: the card event log (esc-agent(8) "EVENT LOG", escctl log).
 *
 * One JSON object per line, written by the session daemon to
 * $XDG_STATE_HOME/esc/events.log (default ~/.local/state/esc/events.log) and by the PAM-time
 * helper to syslog (LOG_AUTHPRIV, the journal where it runs), the same line in both:
 *   {"time":"2024-05-01T09:30:12.345Z","event":"insert","reader":"...","state":"ENROLLED",
 *    "cuid":"...","code":"...","detail":"one sentence"}
 * `time` and `event` are always there, the others when they apply. Strings are escaped (quote,
 * backslash, control characters as \u00XX; bytes outside ASCII become '?'), so a card or a
 * server cannot forge a line or a field.
 *
 * The file is mode 0600 in a 0700 directory, opened with O_NOFOLLOW and checked to be a
 * regular file owned by the user; one write(2) per line with O_APPEND. When a line would take
 * it past EVENTS_FILE_MAX it is renamed to events.log.1 (replacing the older one) first, under a
 * flock(2) every writer takes (the session watcher's workers, escctl, the helper), so the file
 * is rotated once however many cross the cap together. */
#ifndef ESC_EVENTS_H
#define ESC_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#define EVENTS_FILE_MAX  (256 * 1024) /* bytes per file; two files are kept */
#define EVENTS_LINE_MAX  2048
#define EVENTS_FIELD_MAX 512 /* longest value kept per field (longer ones are cut) */

/* One event. NULL fields are left out. */
struct event {
    const char *event;  /* insert, remove, reader_added, phone_home, op_start, op_ok, ... */
    const char *reader; /* PC/SC reader name */
    const char *state;  /* card state (probe_state_name) */
    const char *cuid;
    const char *code; /* an esc_err name (ESC_ERR_...) or a TPS result */
    const char *detail;
};

/* Where events go. events_to_file: the file at `path` (NULL: events_default_path); returns 0,
 * or -1 when the path cannot be made (then events go nowhere). events_to_syslog: syslog
 * (openlog is left to esc_log_init). events_off: nowhere (the default). */
int events_to_file(const char *path);
void events_to_syslog(void);
void events_off(void);

/* $XDG_STATE_HOME/esc/events.log, else $HOME/.local/state/esc/events.log. 0, or -1 when
 * neither variable is usable (or the path does not fit). */
int events_default_path(char *out, size_t cap);

/* Write one event (time added here). Never fails loudly: a log that cannot be written is
 * reported once through log_warn. */
void events_emit(const struct event *e);

/* The JSON line for `e` at `ms` (milliseconds since the epoch), with '\n'. Returns its length,
 * or 0 if it does not fit `cap`. */
size_t events_format(const struct event *e, long long ms, char *out, size_t cap);

/* A parsed line: NUL-terminated copies of the fields ("" when absent). */
struct event_rec {
    char time[40];
    char event[40];
    char reader[EVENTS_FIELD_MAX];
    char state[40];
    char cuid[64];
    char code[64];
    char detail[EVENTS_FIELD_MAX];
};

/* Parse one line (without its '\n') of the log: a flat JSON object of string values with
 * at least "time" and "event". Unknown keys are skipped; escapes are decoded (\u0000 and
 * anything outside ASCII become '?'). Returns 0, or -1 if the line is not such an object. */
int events_parse_line(const char *line, size_t len, struct event_rec *r);

#endif
