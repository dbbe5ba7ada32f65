/* events: the card event log as JSON lines, to a file or syslog. See events.h. */
#include "events.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define PATH_CAP 4096

static struct {
    enum { EV_OFF, EV_FILE, EV_SYSLOG } sink;
    char path[PATH_CAP];
    bool warned;
} ev;

int events_default_path(char *out, size_t cap)
{
    const char *s = getenv("XDG_STATE_HOME"), *h = getenv("HOME");
    int n;
    if (s && s[0] == '/')
        n = snprintf(out, cap, "%s/esc/events.log", s);
    else if (h && h[0] == '/')
        n = snprintf(out, cap, "%s/.local/state/esc/events.log", h);
    else
        return -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* mkdir -p of the directory holding `path`, new directories 0700. */
static int make_parents(const char *path)
{
    char d[PATH_CAP];
    snprintf(d, sizeof d, "%s", path);
    char *slash = strrchr(d, '/');
    if (!slash || slash == d)
        return 0;
    *slash = '\0';
    for (char *p = d + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(d, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(d, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int events_to_file(const char *path)
{
    char def[PATH_CAP];
    if (!path) {
        if (events_default_path(def, sizeof def) != 0)
            return -1;
        path = def;
    }
    if (strlen(path) >= sizeof ev.path - 3 || make_parents(path) != 0) {
        ev.sink = EV_OFF;
        return -1;
    }
    snprintf(ev.path, sizeof ev.path, "%s", path);
    ev.sink = EV_FILE;
    ev.warned = false;
    return 0;
}

void events_to_syslog(void)
{
    ev.sink = EV_SYSLOG;
}

void events_off(void)
{
    ev.sink = EV_OFF;
}

/* Append `s` as a JSON string body (without quotes) to out[*o..cap). */
static bool put_escaped(char *out, size_t cap, size_t *o, const char *s)
{
    static const char hx[] = "0123456789abcdef";
    size_t kept = 0;
    for (; *s && kept < EVENTS_FIELD_MAX - 1; s++, kept++) {
        unsigned char c = (unsigned char)*s;
        char buf[7];
        size_t n = 0;
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(buf, "\\u00", 4);
            buf[4] = hx[c >> 4];
            buf[5] = hx[c & 15];
            n = 6;
        } else {
            buf[n++] = c >= 0x80 ? '?' : (char)c;
        }
        if (*o + n >= cap)
            return false;
        memcpy(out + *o, buf, n);
        *o += n;
    }
    return true;
}

static bool put_raw(char *out, size_t cap, size_t *o, const char *s)
{
    size_t n = strlen(s);
    if (*o + n >= cap)
        return false;
    memcpy(out + *o, s, n);
    *o += n;
    return true;
}

static bool put_field(char *out, size_t cap, size_t *o, const char *key, const char *val)
{
    if (!val)
        return true;
    return put_raw(out, cap, o, ",\"") && put_raw(out, cap, o, key) &&
           put_raw(out, cap, o, "\":\"") && put_escaped(out, cap, o, val) &&
           put_raw(out, cap, o, "\"");
}

size_t events_format(const struct event *e, long long ms, char *out, size_t cap)
{
    char t[40];
    struct tm tm;
    time_t sec = (time_t)(ms / 1000);
    size_t o = 0;

    if (!e || !e->event || cap < 2 || !gmtime_r(&sec, &tm) ||
        strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return 0;
    snprintf(t + strlen(t), sizeof t - strlen(t), ".%03dZ", (int)(ms % 1000));
    if (!put_raw(out, cap, &o, "{\"time\":\"") || !put_raw(out, cap, &o, t) ||
        !put_raw(out, cap, &o, "\"") || !put_field(out, cap, &o, "event", e->event) ||
        !put_field(out, cap, &o, "reader", e->reader) ||
        !put_field(out, cap, &o, "state", e->state) || !put_field(out, cap, &o, "cuid", e->cuid) ||
        !put_field(out, cap, &o, "code", e->code) ||
        !put_field(out, cap, &o, "detail", e->detail) || !put_raw(out, cap, &o, "}\n"))
        return 0;
    out[o] = '\0';
    return o;
}

/* Open the log for appending: never through a link, only a regular file of ours. */
static int open_log(void)
{
    struct stat st;
    int fd = open(ev.path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    if ((st.st_mode & 0777) != 0600)
        (void)fchmod(fd, 0600);
    return fd;
}

/* Take the log's lock: several processes write it (the session watcher's workers, escctl, the
 * PAM-time helper). Bounded: a writer that holds it longer (frozen) costs the others at most
 * about 50 ms, then they append without it (a line is one write(2) on O_APPEND: never torn). */
static bool lock_log(int fd)
{
    for (int i = 0; i < 50; i++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return true;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return false;
        nanosleep(&(struct timespec){0, 1000000L}, NULL);
    }
    return false;
}

/* Append one line; past EVENTS_FILE_MAX rotate first. The size check and the rename happen under
 * the lock, on the file the path still names: without both, two writers that saw the same full
 * file would each rotate, and the second rename would throw away the first's events.log.1. */
static int write_file(const char *line, size_t len)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        struct stat st, named;
        int fd = open_log();
        if (fd < 0)
            return -1;
        bool locked = lock_log(fd);
        if (fstat(fd, &st) != 0) {
            close(fd);
            return -1;
        }
        if (locked && (lstat(ev.path, &named) != 0 || named.st_ino != st.st_ino ||
                       named.st_dev != st.st_dev)) {
            close(fd); /* rotated by another writer meanwhile: append to the new file */
            continue;
        }
        if (locked && st.st_size > 0 && st.st_size + (off_t)len > EVENTS_FILE_MAX) {
            char old[PATH_CAP + 2];
            snprintf(old, sizeof old, "%s.1", ev.path);
            int r = rename(ev.path, old);
            close(fd);
            if (r != 0)
                return -1;
            continue;
        }
        ssize_t w = write(fd, line, len);
        close(fd); /* releases the lock */
        return w == (ssize_t)len ? 0 : -1;
    }
    return -1;
}

void events_emit(const struct event *e)
{
    char line[EVENTS_LINE_MAX];
    struct timespec ts;
    size_t len;

    if (ev.sink == EV_OFF)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    len = events_format(e, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, line, sizeof line);
    if (len == 0)
        return;
    if (ev.sink == EV_SYSLOG) {
        syslog(LOG_AUTHPRIV | LOG_INFO, "event %.*s", (int)len - 1, line);
        return;
    }
    if (write_file(line, len) != 0 && !ev.warned) {
        log_warn("cannot write the event log %s: %s", ev.path, strerror(errno));
        ev.warned = true;
    }
}

/* ---- reading (escctl log) ---- */

struct cursor {
    const char *p, *end;
};

static void skip_ws(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* A JSON string at c->p into out (cut to cap - 1, never overflowing); -1 if malformed. */
static int get_string(struct cursor *c, char *out, size_t cap)
{
    size_t o = 0;
    if (c->p >= c->end || *c->p != '"')
        return -1;
    c->p++;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p++;
        if (ch < 0x20)
            return -1;
        if (ch == '\\') {
            if (c->p >= c->end)
                return -1;
            char esc = *c->p++;
            switch (esc) {
            case '"':
            case '\\':
            case '/':
                ch = (unsigned char)esc;
                break;
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                ch = ' ';
                break;
            case 'u': {
                unsigned v = 0;
                if (c->end - c->p < 4)
                    return -1;
                for (int i = 0; i < 4; i++) {
                    int h = hexval(c->p[i]);
                    if (h < 0)
                        return -1;
                    v = v << 4 | (unsigned)h;
                }
                c->p += 4;
                ch = v >= 0x20 && v < 0x7f ? (unsigned char)v : '?';
                break;
            }
            default:
                return -1;
            }
        } else if (ch >= 0x7f) {
            ch = '?';
        }
        if (o + 1 < cap)
            out[o++] = (char)ch;
    }
    if (c->p >= c->end)
        return -1;
    c->p++; /* closing quote */
    if (cap)
        out[o] = '\0';
    return 0;
}

int events_parse_line(const char *line, size_t len, struct event_rec *r)
{
    struct cursor c = {line, line + len};
    char key[32], junk[EVENTS_FIELD_MAX];

    memset(r, 0, sizeof *r);
    skip_ws(&c);
    if (c.p >= c.end || *c.p++ != '{')
        return -1;
    for (;;) {
        char *dst;
        size_t cap;
        skip_ws(&c);
        if (get_string(&c, key, sizeof key) != 0)
            return -1;
        skip_ws(&c);
        if (c.p >= c.end || *c.p++ != ':')
            return -1;
        skip_ws(&c);
#define FIELD(name)                                                                                \
    if (strcmp(key, #name) == 0) {                                                                 \
        dst = r->name;                                                                             \
        cap = sizeof r->name;                                                                      \
    } else
        FIELD(time)
        FIELD(event)
        FIELD(reader)
        FIELD(state)
        FIELD(cuid)
        FIELD(code)
        FIELD(detail)
        {
            dst = junk;
            cap = sizeof junk;
        }
#undef FIELD
        if (get_string(&c, dst, cap) != 0)
            return -1;
        skip_ws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            continue;
        }
        if (c.p < c.end && *c.p == '}') {
            c.p++;
            break;
        }
        return -1;
    }
    skip_ws(&c);
    if (c.p != c.end || !r->time[0] || !r->event[0])
        return -1;
    return 0;
}
