/* session_light: esc-card's part of an inserted card, with no network (session.h). The steps
 * and their order are esc-agent --session-card's (agent_op.c's probe, then ph_get's cache
 * rule), so that both report a card alike; whatever needs more is left to it. */
#include "session.h"

#include "conf.h"
#include "engine/agent_op.h"
#include "engine/phone_home.h"
#include "log.h"
#include "probe.h"

#include <string.h>

enum session_light session_light(const struct esc_conf *c, const char *reader)
{
    static struct agent_op_out out; /* large */
    struct probe_opts po = {.timeout_ms = c->probe_timeout_ms > 2000 ? c->probe_timeout_ms : 2000,
                            .reader = reader};
    char dir[CONF_VALUE_MAX + 32];
    const char *url;

    memset(&out, 0, sizeof out);
    probe_card(&po, &out.facts);
    switch (out.facts.state) {
    case PROBE_NO_CARD:
    case PROBE_NO_READER:
    case PROBE_NO_PCSCD:
        return SESSION_LIGHT_GONE; /* gone again before we looked, or pcscd: the watcher says */
    case PROBE_ERROR:
        return SESSION_LIGHT_FULL; /* its sentence (a stall told apart) is agent_op's */
    default:
        break;
    }
    if (!out.facts.have_cuid || !ph_cuid_ok(out.facts.cuid_hex))
        return SESSION_LIGHT_FULL;
    /* ph_get's cache, as agent_op uses it */
    url = ph_pick_url(NULL, out.facts.phone_home_url, c->phone_home_url);
    if (ph_cache_dir(c->cache_dir, dir, sizeof dir) != 0 ||
        ph_cache_lookup(dir, url, out.facts.cuid_hex, &out.profile) != 0)
        return SESSION_LIGHT_FULL;
    out.ph_cached = true;
    log_info("phone home for %s: %s (cached)", out.facts.cuid_hex, out.profile.operation);
    session_report(c, reader, &out, ESC_OK);
    return SESSION_LIGHT_DONE;
}
