/* handoff_engine: the runner of esc-agent: the operation engine (agent_op + tps_op) with the
 * hand-off's callbacks. See handoff.h. */
#include "handoff.h"

#include "engine/agent_op.h"
#include "secret.h"

#include <curl/curl.h>
#include <string.h>

esc_err handoff_run_engine(struct handoff *h, const struct esc_conf *c, const struct ipc_msg *req)
{
    static struct agent_op_out out; /* large; one hand-off at a time */
    struct tps_op_ui ui = {.ask = handoff_ask, .progress = handoff_progress, .ctx = h};
    struct agent_op_args a = {.op = agent_op_parse(req->id),
                              .reader = ipc_has(req, IPC_F_READER) ? req->reader : NULL};
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
    curl_global_init(CURL_GLOBAL_DEFAULT);
    e = agent_run_op(c, &a, &ui, &out);
    curl_global_cleanup();
    if (e != ESC_OK && h->cancelled) {
        e = ESC_ERR_CANCELLED;
        handoff_done_cancelled(h);
    } else {
        handoff_done(h, e, out.sentence);
    }
    secret_wipe(&out, sizeof out);
    return e;
}
