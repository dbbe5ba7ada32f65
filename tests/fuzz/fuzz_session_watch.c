/* fuzz_session_watch: the session daemon's reader watcher reading arbitrary bytes from "pcscd"
 * (a socket of the harness's at $PCSCLITE_CSOCK_NAME): the version answer, the reader states,
 * the change messages, in whatever pieces, then the connection closed. Every event must name a
 * reader with a NUL-terminated name (or none, for pcscd's own events). */
#include "session/session_watch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int listener = -1;
static char sock_dir[] = "/tmp/fuzz-session-watch.XXXXXX";
static char sock_path[sizeof sock_dir + 16];

static void cleanup(void)
{
    unlink(sock_path);
    rmdir(sock_dir);
}

static void setup(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!mkdtemp(sock_dir))
        abort();
    snprintf(sock_path, sizeof sock_path, "%s/pcscd.comm", sock_dir);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
    atexit(cleanup);
    setenv("PCSCLITE_CSOCK_NAME", sa.sun_path, 1);
    listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(listener, 16) != 0)
        abort();
}

static void check(const struct sw_event *ev, size_t n, size_t max)
{
    if (n > max)
        __builtin_trap();
    for (size_t i = 0; i < n; i++) {
        size_t l = strnlen(ev[i].reader, sizeof ev[i].reader);
        if (l == sizeof ev[i].reader ||
            strnlen(ev[i].detail, sizeof ev[i].detail) == sizeof ev[i].detail)
            __builtin_trap();
        if ((ev[i].kind == SW_INSERT || ev[i].kind == SW_REMOVE || ev[i].kind == SW_READER_ADDED ||
             ev[i].kind == SW_READER_REMOVED) &&
            l == 0)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sw_event ev[40];
    if (listener < 0)
        setup();
    sw_watcher *w = sw_open();
    if (!w)
        return 0;
    check(ev, sw_step(w, ev, 40), 40); /* connects, asks for the version */
    int c = accept(listener, NULL, NULL);
    if (c >= 0) {
        /* the input in pieces whose sizes the first byte picks */
        size_t piece = size ? (size_t)data[0] % 64 + 1 : 1;
        for (size_t off = 0; off < size; off += piece) {
            size_t k = size - off < piece ? size - off : piece;
            if (send(c, data + off, k, MSG_NOSIGNAL) < 0)
                break;
            check(ev, sw_step(w, ev, 40), 40);
        }
        close(c);
    }
    for (int i = 0; i < 3; i++)
        check(ev, sw_step(w, ev, 40), 40);
    sw_close(w);
    /* connections made while reconnecting */
    int fl;
    while ((fl = accept(listener, NULL, NULL)) >= 0)
        close(fl);
    return 0;
}
