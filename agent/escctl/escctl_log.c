/* escctl log: the session daemon's event log (common/events.h), oldest first: events.log.1
 * then events.log. Human form (time, reader, event, detail) or --json (the lines as written,
 * each one checked to be an event). --follow then waits for new lines with inotify (no
 * polling) and carries on across a rotation. The file is input like any other: a line that
 * is not an event is skipped and counted. */
#include "escctl.h"
#include "escctl_log.h"

#include "conf.h"
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct reader_state {
    bool json;
    unsigned long skipped;
    char buf[2 * EVENTS_LINE_MAX];
    size_t len;    /* bytes of an unfinished line in buf */
    bool overlong; /* the current line is longer than buf: skip up to its '\n' */
};

static void print_event(struct reader_state *st, const char *line, size_t len)
{
    struct event_rec r;
    struct tm tm;
    char when[32];

    if (events_parse_line(line, len, &r) != 0) {
        st->skipped++;
        return;
    }
    if (st->json) {
        fwrite(line, 1, len, stdout);
        fputc('\n', stdout);
        return;
    }
    /* the UTC time of the file, shown in local time */
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(r.time, "%Y-%m-%dT%H:%M:%S", &tm);
    time_t t = rest ? timegm(&tm) : (time_t)-1;
    if (t == (time_t)-1 || !localtime_r(&t, &tm) ||
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(when, sizeof when, "%.31s", r.time);
    printf("%s  %-22s %s", when, r.reader[0] ? r.reader : "-", r.event);
    if (r.state[0] || r.cuid[0] || r.code[0] || r.detail[0])
        printf("%*s", (int)(strlen(r.event) < 16 ? 16 - strlen(r.event) : 0), "");
    if (r.state[0])
        printf(" %s", r.state);
    if (r.cuid[0])
        printf(" cuid=%s", r.cuid);
    if (r.code[0])
        printf(" [%s]", r.code);
    if (r.detail[0])
        printf(": %s", r.detail);
    putchar('\n');
}

/* Feed bytes read from the log; complete lines are printed. */
static void feed(struct reader_state *st, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        if (c == '\n') {
            if (st->overlong)
                st->skipped++;
            else
                print_event(st, st->buf, st->len);
            st->len = 0;
            st->overlong = false;
        } else if (st->len < sizeof st->buf) {
            st->buf[st->len++] = c;
        } else {
            st->overlong = true;
        }
    }
}

static int open_log(const char *path)
{
    return open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* Print what fd holds from its current offset; false on a read error. */
static bool drain(struct reader_state *st, int fd)
{
    char chunk[8192];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        feed(st, chunk, (size_t)n);
    fflush(stdout);
    return n == 0;
}

static void print_file(struct reader_state *st, const char *path)
{
    int fd = open_log(path);
    if (fd < 0)
        return;
    (void)drain(st, fd);
    st->len = 0; /* a last line without '\n' is unfinished: not an event yet */
    st->overlong = false;
    close(fd);
}

/* Wait for new lines: inotify on the directory (the file may be created or rotated). */
static int follow(struct reader_state *st, const char *path)
{
    char dir[PATH_MAX], ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    const char *base = strrchr(path, '/') + 1;
    struct stat now, cur;
    int ino, fd;

    snprintf(dir, sizeof dir, "%.*s", (int)(base - path - 1), path);
    ino = inotify_init1(IN_CLOEXEC);
    if (ino < 0 || inotify_add_watch(ino, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
        fprintf(stderr, "escctl: cannot watch %s: %s\n", dir, strerror(errno));
        return ESCCTL_EXIT_FAIL;
    }
    fd = open_log(path);
    if (fd >= 0) {
        (void)lseek(fd, 0, SEEK_END); /* what is there was printed already */
        if (fstat(fd, &cur) != 0)
            memset(&cur, 0, sizeof cur);
    }
    for (;;) {
        ssize_t n = read(ino, ev, sizeof ev);
        if (n < 0 && errno != EINTR)
            break;
        /* a new file under the name (rotation, or the first event): read it from the start */
        if (stat(path, &now) == 0 && (fd < 0 || now.st_ino != cur.st_ino)) {
            if (fd >= 0) {
                (void)drain(st, fd); /* the last lines of the rotated file */
                close(fd);
            }
            st->len = 0;
            fd = open_log(path);
            if (fd >= 0 && fstat(fd, &cur) != 0)
                memset(&cur, 0, sizeof cur);
        }
        if (fd >= 0 && !drain(st, fd))
            break;
        if (ferror(stdout))
            break;
    }
    if (fd >= 0)
        close(fd);
    close(ino);
    return ESCCTL_EXIT_FAIL;
}

int escctl_cmd_log(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"follow", no_argument, NULL, 'f'},
                                         {"conf", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static struct reader_state st;
    struct esc_conf c;
    char path[PATH_MAX], old[PATH_MAX + 2], err[256] = "";
    bool follow_it = false;
    int ch;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'j':
            st.json = true;
            break;
        case 'f':
            follow_it = true;
            break;
        case 'c':
            setenv("ESC_CONF", optarg, 1);
            break;
        case 'h':
            printf("usage: escctl log %s\n", ESCCTL_LOG_USAGE);
            return ESCCTL_EXIT_OK;
        default:
            fprintf(stderr, "usage: escctl log %s\n", ESCCTL_LOG_USAGE);
            return ESCCTL_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "escctl: log: unexpected argument '%s'\n", argv[optind]);
        return ESCCTL_EXIT_USAGE;
    }
    /* as every command: a broken esc.conf is said before anything else */
    if (conf_load(NULL, &c, err, sizeof err) != ESC_OK) {
        fprintf(stderr, "escctl: %s\n", err);
        return ESCCTL_EXIT_CONF;
    }
    if (events_default_path(path, sizeof path) != 0) {
        fprintf(stderr, "escctl: no event log: neither $XDG_STATE_HOME nor $HOME is set\n");
        return ESCCTL_EXIT_FAIL;
    }
    snprintf(old, sizeof old, "%s.1", path);
    print_file(&st, old);
    print_file(&st, path);
    fflush(stdout);
    if (st.skipped)
        fprintf(stderr, "escctl: %lu line%s of %s %s not an event (skipped)\n", st.skipped,
                st.skipped == 1 ? "" : "s", path, st.skipped == 1 ? "is" : "are");
    if (follow_it)
        return follow(&st, path);
    return ESCCTL_EXIT_OK;
}
