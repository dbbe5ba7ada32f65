/* handoff_engine: the runner of esc-agent: the operation engine (agent_op + tps_op) with the
 * hand-off's callbacks. See handoff.h.
 *
 * While the engine runs, a thread watches the hand-off socket for pam_esc going away (it closes
 * the socket when the user cancels or at its deadline): the operation is then cancelled
 * wherever it waits (op_stop.h), so that it never finishes behind pam_esc's back. The thread
 * only polls for the hang-up (POLLRDHUP), never reads: the answers to the questions stay the
 * engine's. The REQUEST's timeout bounds the operation as well. */
#include "handoff.h"

#include "engine/agent_op.h"
#include "log.h"
#include "secret.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* The operation ends this long before pam_esc's deadline, so that DONE still reaches it. */
#define DONE_MARGIN_MS 500

struct watch {
    int fd;      /* the hand-off socket */
    int wake[2]; /* written to stop the thread */
    struct op_stop *st;
    pthread_t thread;
    bool running;
};

static void *watch_main(void *arg)
{
    struct watch *w = arg;
    struct pollfd p[2] = {{.fd = w->fd, .events = POLLRDHUP}, {.fd = w->wake[0], .events = POLLIN}};

    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (p[0].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) {
            log_info("hand-off: pam_esc went away; stopping the operation");
            op_stop_cancel(w->st);
            break;
        }
    }
    return NULL;
}

static void watch_start(struct watch *w)
{
    sigset_t all, old;

    w->running = false;
    if (pipe2(w->wake, O_CLOEXEC) != 0) {
        log_warn("hand-off: cannot watch for pam_esc going away: %s", strerror(errno));
        return;
    }
    sigfillset(&all); /* signals stay with the main thread */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    w->running = pthread_create(&w->thread, NULL, watch_main, w) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!w->running) {
        close(w->wake[0]);
        close(w->wake[1]);
    }
}

static void watch_stop(struct watch *w)
{
    if (!w->running)
        return;
    if (write(w->wake[1], "x", 1) < 0)
        log_debug("hand-off: wake-up: %s", strerror(errno));
    pthread_join(w->thread, NULL);
    close(w->wake[0]);
    close(w->wake[1]);
}

esc_err handoff_run_engine(struct handoff *h, const struct esc_conf *c, const struct ipc_msg *req)
{
    static struct agent_op_out out; /* large; one hand-off at a time */
    struct tps_op_ui ui = {.ask = handoff_ask, .progress = handoff_progress, .ctx = h};
    struct agent_op_args a = {.op = esc_op_parse(req->id),
                              .reader = ipc_has(req, IPC_F_READER) ? req->reader : NULL};
    struct op_stop st;
    struct watch w = {.fd = h->fd};
    long end = h->deadline - DONE_MARGIN_MS;
    esc_err e;

    if (!c) {
        handoff_done(h, ESC_ERR_CONF, "The smart card configuration (esc.conf) is not valid.");
        return ESC_ERR_CONF;
    }
    memset(&out, 0, sizeof out);
    if (a.op < 0) {
        handoff_done(h, ESC_ERR_NOT_SUPPORTED, "This smart card operation is not supported.");
        return ESC_ERR_NOT_SUPPORTED;
    }
    op_stop_init(&st, (uint64_t)(end > ipc_now_ms() ? end : ipc_now_ms() + 1));
    a.stop = &st;
    w.st = &st;
    watch_start(&w);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    e = agent_run_op(c, &a, &ui, &out);
    curl_global_cleanup();
    watch_stop(&w);
    if (op_stop_check(&st) == ESC_ERR_CANCELLED)
        h->cancelled = true;
    op_stop_destroy(&st);
    if (e != ESC_OK && h->cancelled) {
        e = ESC_ERR_CANCELLED;
        handoff_done_cancelled(h);
    } else {
        handoff_done(h, e, out.sentence);
    }
    secret_wipe(&out, sizeof out);
    return e;
}
