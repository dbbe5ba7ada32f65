/* test_events: the event log's JSON lines (escaping: a card or server cannot forge a field or a
 * line), the reader of escctl log (round trip, hostile lines refused), the file: mode 0600, no
 * symbolic link followed, rotation to events.log.1 at EVENTS_FILE_MAX, once, with several
 * processes writing. */
#include "check.h"
#include "events.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_format_and_parse_round_trip(void)
{
    char line[EVENTS_LINE_MAX];
    struct event_rec r;
    struct event e = {.event = "insert",
                      .reader = "Reader \"A\" 00",
                      .state = "ENROLLED",
                      .cuid = "40907900000100000002",
                      .detail = "line1\nline2 \\ end"};
    size_t n = events_format(&e, 1700000000123LL, line, sizeof line);
    EXPECT(n > 0 && line[n - 1] == '\n');
    EXPECT(strchr(line, '\n') == line + n - 1); /* one line whatever the detail holds */
    EXPECT(strncmp(line, "{\"time\":\"2023-11-14T22:13:20.123Z\",\"event\":\"insert\"", 50) == 0);
    EXPECT(events_parse_line(line, n - 1, &r) == 0);
    EXPECT_STR(r.time, "2023-11-14T22:13:20.123Z");
    EXPECT_STR(r.event, "insert");
    EXPECT_STR(r.reader, "Reader \"A\" 00");
    EXPECT_STR(r.state, "ENROLLED");
    EXPECT_STR(r.detail, "line1?line2 \\ end"); /* control characters come back as '?' */
    EXPECT_STR(r.code, "");
}

static void test_non_ascii_and_long_values_are_bounded(void)
{
    char line[EVENTS_LINE_MAX], big[4000];
    struct event_rec r;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    big[0] = (char)0xC3;
    struct event e = {.event = "card_error", .detail = big};
    size_t n = events_format(&e, 0, line, sizeof line);
    EXPECT(n > 0 && n < EVENTS_LINE_MAX);
    EXPECT(events_parse_line(line, n - 1, &r) == 0);
    EXPECT(r.detail[0] == '?');
    EXPECT(strlen(r.detail) == EVENTS_FIELD_MAX - 1);
}

static void test_parse_refuses_what_is_not_an_event(void)
{
    struct event_rec r;
    static const char *const bad[] = {
        "",
        "{}",
        "{\"event\":\"insert\"}",                    /* no time */
        "{\"time\":\"t\",\"event\":\"x\"",           /* unterminated */
        "{\"time\":\"t\",\"event\":\"x\"} trailing", /* bytes after the object */
        "{\"time\":\"t\",\"event\":1}",              /* not a string */
        "{\"time\":\"t\",\"event\":\"a\\q\"}",       /* bad escape */
        "{\"time\":\"t\",\"event\":\"a\\u12\"}",     /* short \u */
        "[\"time\",\"event\"]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT(events_parse_line(bad[i], strlen(bad[i]), &r) != 0);
    const char *ok = " { \"time\" : \"t\" , \"extra\":\"skipped\", \"event\":\"a\\u0041\" } ";
    EXPECT(events_parse_line(ok, strlen(ok), &r) == 0);
    EXPECT_STR(r.event, "aA");
}

static char dir[] = "/tmp/test_events.XXXXXX";

static void test_file_private_rotated_no_link(void)
{
    char path[256], old[260], link_target[256];
    struct stat st;
    char pad[300];
    memset(pad, 'p', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    EXPECT(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/state/esc/events.log", dir);
    snprintf(old, sizeof old, "%s.1", path);
    EXPECT(events_to_file(path) == 0); /* the directories are made */
    events_emit(&(struct event){.event = "first"});
    EXPECT(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* fill past the cap: the file is rotated once, both stay under the cap */
    for (int i = 0; i < EVENTS_FILE_MAX / 300 + 10; i++)
        events_emit(&(struct event){.event = "fill", .detail = pad});
    EXPECT(stat(old, &st) == 0 && st.st_size <= EVENTS_FILE_MAX);
    EXPECT(stat(path, &st) == 0 && st.st_size > 0 && st.st_size <= EVENTS_FILE_MAX);
    /* a symbolic link in the log's place is not followed */
    snprintf(link_target, sizeof link_target, "%s/target", dir);
    unlink(path);
    EXPECT(symlink(link_target, path) == 0);
    events_emit(&(struct event){.event = "after_link"});
    EXPECT(access(link_target, F_OK) != 0);
    events_off();
    unlink(path);
    unlink(old);
}

/* Several processes write the log at once (the session watcher's workers, escctl, the helper):
 * crossing the cap together rotates once, and no line is lost (1.5 files' worth: both kept). */
static void test_concurrent_writers_lose_nothing(void)
{
    char path[256], old[260], pad[200];
    struct stat st;
    memset(pad, 'q', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    snprintf(path, sizeof path, "%s/multi/events.log", dir);
    snprintf(old, sizeof old, "%s.1", path);
    EXPECT(events_to_file(path) == 0);
    events_emit(&(struct event){.event = "w", .detail = pad});
    EXPECT(stat(path, &st) == 0 && st.st_size > 0);
    long line = st.st_size, writers = 6;
    long each = (EVENTS_FILE_MAX * 3 / 2) / line / writers;
    for (long w = 0; w < writers; w++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (long i = 0; i < each; i++)
                events_emit(&(struct event){.event = "w", .detail = pad});
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    long lines = 0;
    const char *files[] = {path, old};
    for (int f = 0; f < 2; f++) {
        FILE *in = fopen(files[f], "r");
        for (int c; in && (c = fgetc(in)) != EOF;)
            lines += c == '\n';
        if (in)
            fclose(in);
    }
    EXPECT_EQ(lines, 1 + writers * each);
    events_off();
}

static void test_default_path(void)
{
    char p[256];
    setenv("XDG_STATE_HOME", "/x/state", 1);
    EXPECT(events_default_path(p, sizeof p) == 0);
    EXPECT_STR(p, "/x/state/esc/events.log");
    setenv("XDG_STATE_HOME", "relative", 1);
    setenv("HOME", "/home/u", 1);
    EXPECT(events_default_path(p, sizeof p) == 0);
    EXPECT_STR(p, "/home/u/.local/state/esc/events.log");
    unsetenv("XDG_STATE_HOME");
    unsetenv("HOME");
    EXPECT(events_default_path(p, sizeof p) != 0);
}

int main(void)
{
    RUN(test_format_and_parse_round_trip);
    RUN(test_non_ascii_and_long_values_are_bounded);
    RUN(test_parse_refuses_what_is_not_an_event);
    RUN(test_file_private_rotated_no_link);
    RUN(test_concurrent_writers_lose_nothing);
    RUN(test_default_path);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (dir[sizeof dir - 2] != 'X')
        (void)!system(cmd);
    return check_status();
}
