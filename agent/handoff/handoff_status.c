/* handoff_status: `escctl status|list` answered by the session agent (REQUEST id
 * IPC_REQ_STATUS): the same probe_all escctl runs in-process, with escctl's reader and
 * timeout, each reader's facts as one CARD message, then DONE. See handoff.h. */
#include "handoff.h"

#include "ipc_card.h"
#include "log.h"
#include "probe.h"

#define STATUS_SEND_MS 2000   /* after the probe, to send its facts */
#define STATUS_MAX_MS  600000 /* escctl's own cap on --timeout */

esc_err handoff_run_status(struct handoff *h, const struct ipc_msg *req)
{
    static struct probe_facts facts[PCSC_MAX_READERS]; /* large; one hand-off at a time */
    struct probe_opts po = {0};
    size_t n;

    po.timeout_ms = !req->timeout_ms                  ? PROBE_DEFAULT_TIMEOUT_MS
                    : req->timeout_ms < STATUS_MAX_MS ? req->timeout_ms
                                                      : STATUS_MAX_MS;
    po.reader = ipc_has(req, IPC_F_READER) && req->reader[0] ? req->reader : NULL;
    n = probe_all(&po, facts, PCSC_MAX_READERS);
    h->deadline = ipc_now_ms() + STATUS_SEND_MS;
    for (size_t i = 0; i < n; i++) {
        struct ipc_msg m;
        ipc_card_from_facts(&facts[i], &m);
        if (ipc_send(h->fd, &m, h->deadline) != ESC_OK) {
            log_info("hand-off: escctl left before the status was sent");
            return ESC_ERR_IO;
        }
    }
    handoff_done(h, ESC_OK, "status");
    return ESC_OK;
}
