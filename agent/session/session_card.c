/* session_card: `esc-agent --session-card READER`, started by the session daemon for a card
 * inserted in a running session: probe it, phone home (through the profile cache), log the
 * events, tell the user what the card needs (see session.h). */
#include "session.h"

#include "conf.h"
#include "engine/agent_op.h"
#include "events.h"
#include "ipc.h"
#include "log.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void inserted(const struct esc_conf *conf, const char *reader)
{
    static struct agent_op_out out; /* large */

    /* probe, then phone home through the cache (agent_op: the same steps an operation takes) */
    esc_err e = agent_phone_home(conf, reader, NULL, false, false, &out);
    session_report(conf, reader, &out, e);
}

int session_card_main(const char *reader)
{
    static struct esc_conf conf;

    session_worker_init(&conf);
    if (!reader[0] || strlen(reader) >= 128) {
        log_err("--session-card: no reader name");
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        log_warn("libcurl did not start: the card cannot phone home");
    inserted(&conf, reader);
    curl_global_cleanup();
    return 0;
}
