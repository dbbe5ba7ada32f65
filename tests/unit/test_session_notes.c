/* test_session_notes: what the session daemon tells the user about an inserted card: the
 * renew_days window and pin_warn_tries at and around their edges, how to get it done (the
 * locked screen only when esc.conf offers the operation at login), nothing for a card in good
 * order. */
#include "check.h"
#include "conf.h"
#include "session/session_notes.h"

#include <string.h>

#define NOW 1700000000
#define DAY 86400

static struct probe_facts card(enum probe_state s, int tries, long long not_after)
{
    struct probe_facts f;
    memset(&f, 0, sizeof f);
    f.state = s;
    f.pin_tries_left = tries;
    f.not_after = not_after;
    strcpy(f.reader, "Reader 00 00");
    return f;
}

static size_t notes(const struct esc_conf *c, struct probe_facts f, struct session_note *out)
{
    return session_notes(c, &f, "Example Corp", NOW, out, NOTES_MAX);
}

static void test_enrolled_in_good_order_is_quiet(void)
{
    struct esc_conf c;
    struct session_note n[NOTES_MAX];
    conf_defaults(&c);
    EXPECT_EQ(notes(&c, card(PROBE_ENROLLED, 3, NOW + 15 * DAY), n), 0);
    EXPECT_EQ(notes(&c, card(PROBE_NO_CARD, -1, 0), n), 0);
}

static void test_renew_window_edges(void)
{
    struct esc_conf c;
    struct session_note n[NOTES_MAX];
    conf_defaults(&c); /* renew_days 14 */
    EXPECT_EQ(notes(&c, card(PROBE_ENROLLED, 5, NOW + 14 * DAY), n), 1);
    EXPECT_STR(n[0].kind, "expiring");
    EXPECT_STR(n[0].summary, "Smart card certificates expire in 14 days");
    EXPECT(strstr(n[0].body, "escctl renew") != NULL);
    EXPECT_EQ(notes(&c, card(PROBE_ENROLLED, 5, NOW + 14 * DAY + 1), n), 0);
    EXPECT_EQ(notes(&c, card(PROBE_ENROLLED, 5, NOW + 1), n), 1);
    EXPECT_STR(n[0].summary, "Smart card certificates expire in 1 day");
    c.renew_days = 0;
    EXPECT_EQ(notes(&c, card(PROBE_ENROLLED, 5, NOW + 1), n), 0);
}

static void test_pin_tries_edges(void)
{
    struct esc_conf c;
    struct session_note n[NOTES_MAX];
    conf_defaults(&c); /* pin_warn_tries 2 */
    EXPECT_EQ(notes(&c, card(PROBE_ENROLLED, 3, NOW + 100 * DAY), n), 0);
    EXPECT_EQ(notes(&c, card(PROBE_ENROLLED, 2, NOW + 100 * DAY), n), 1);
    EXPECT_STR(n[0].kind, "pin_tries");
    EXPECT_STR(n[0].summary, "Smart card PIN: 2 tries left");
    EXPECT_EQ(notes(&c, card(PROBE_ENROLLED, 1, NOW + 100 * DAY), n), 1);
    EXPECT_STR(n[0].summary, "Smart card PIN: 1 try left");
    /* both at once: one note each */
    EXPECT_EQ(notes(&c, card(PROBE_ENROLLED, 2, NOW + DAY), n), 2);
    EXPECT_STR(n[0].kind, "pin_tries");
    EXPECT_STR(n[1].kind, "expiring");
    c.pin_warn_tries = 0;
    EXPECT_EQ(notes(&c, card(PROBE_ENROLLED, 1, NOW + 100 * DAY), n), 0);
}

static void test_blank_and_formatted_say_how(void)
{
    struct esc_conf c;
    struct session_note n[NOTES_MAX];
    conf_defaults(&c); /* login_operations: enroll pinreset */
    EXPECT_EQ(notes(&c, card(PROBE_UNINITIALIZED, -1, 0), n), 1);
    EXPECT_STR(n[0].kind, "setup");
    EXPECT(strstr(n[0].body, "Reader 00 00 (issued by Example Corp) is formatted") != NULL);
    EXPECT(strstr(n[0].body, "Lock the screen and unlock it with the card") != NULL);
    EXPECT(strstr(n[0].body, "escctl enroll") != NULL);
    EXPECT_EQ(notes(&c, card(PROBE_NO_APPLET, -1, 0), n), 1);
    EXPECT(strstr(n[0].body, "is blank") != NULL);
    c.login_operations = CONF_OP_PINRESET; /* no enroll at login: only the command */
    EXPECT_EQ(notes(&c, card(PROBE_NO_APPLET, -1, 0), n), 1);
    EXPECT(strstr(n[0].body, "Lock the screen") == NULL);
    EXPECT(strstr(n[0].body, "escctl enroll") != NULL);
}

static void test_locked_expired_unreadable(void)
{
    struct esc_conf c;
    struct session_note n[NOTES_MAX];
    conf_defaults(&c);
    EXPECT_EQ(notes(&c, card(PROBE_PIN_LOCKED, 0, NOW + 100 * DAY), n), 1);
    EXPECT_STR(n[0].kind, "pin_locked");
    EXPECT_EQ(n[0].urgency, NOTE_CRITICAL);
    EXPECT(strstr(n[0].body, "escctl reset-pin") != NULL);
    EXPECT_EQ(notes(&c, card(PROBE_EXPIRED, 3, NOW - DAY), n), 1);
    EXPECT_STR(n[0].kind, "expired");
    struct probe_facts f = card(PROBE_ERROR, -1, 0);
    f.err = ESC_ERR_CARD_GARBAGE;
    EXPECT_EQ(session_notes(&c, &f, NULL, NOW, n, NOTES_MAX), 1);
    EXPECT_STR(n[0].kind, "unreadable");
    EXPECT(strstr(n[0].body, esc_strerror(ESC_ERR_CARD_GARBAGE)) != NULL);
}

int main(void)
{
    RUN(test_enrolled_in_good_order_is_quiet);
    RUN(test_renew_window_edges);
    RUN(test_pin_tries_edges);
    RUN(test_blank_and_formatted_say_how);
    RUN(test_locked_expired_unreadable);
    return check_status();
}
