/* session_card: what the session daemon does when a card is inserted: probe it, phone home
 * (through the profile cache), log the events, tell the user what the card needs. */
#ifndef ESC_SESSION_CARD_H
#define ESC_SESSION_CARD_H

#include "conf.h"

#include <stdbool.h>

struct session_state {
    const struct esc_conf *conf; /* never NULL: the defaults when esc.conf is unusable */
    bool bus_missing_said;       /* "no session bus" is logged once until a call works again */
    bool curl_ready;             /* libcurl (and its TLS library) set up at the first card */
};

void session_card_inserted(struct session_state *s, const char *reader);

#endif
