/* test_agent_op: what a user of escctl sees for each outcome: the esc_err an engine result
 * gives, the documented exit code (escctl.h, escctl_ops.h), and what the card read back
 * after an operation makes of the TPS's word (agent_op_outcome). */
#include "engine/agent_op.h"
#include "check.h"
#include "escctl/escctl_ops.h"

#include <stdio.h>
#include <string.h>

/* Every esc_err the engine (tps_op_run, tps_conv_run) and phone home (ph_fetch) return, with
 * the exit code escctl(1) documents for it. */
static void test_engine_results_to_exit_codes(void)
{
    EXPECT_EQ(escctl_exit_code(ESC_OK), 0);
    EXPECT_EQ(escctl_exit_code(ESC_ERR_AUTH_FAILED), ESCCTL_EXIT_AUTH);    /* END_OP 14 */
    EXPECT_EQ(escctl_exit_code(ESC_ERR_TPS_REFUSED), ESCCTL_EXIT_REFUSED); /* any other END_OP */
    EXPECT_EQ(escctl_exit_code(ESC_ERR_UNTRUSTED_HOST), ESCCTL_EXIT_UNTRUSTED);
    EXPECT_EQ(escctl_exit_code(ESC_ERR_NETWORK), ESCCTL_EXIT_NET); /* connect, closed */
    EXPECT_EQ(escctl_exit_code(ESC_ERR_TLS), ESCCTL_EXIT_NET);
    EXPECT_EQ(escctl_exit_code(ESC_ERR_SERVER), ESCCTL_EXIT_NET); /* HTTP status, ServiceInfo */
    EXPECT_EQ(escctl_exit_code(ESC_ERR_PROTOCOL), ESCCTL_EXIT_NET);
    EXPECT_EQ(escctl_exit_code(ESC_ERR_PCSC), ESCCTL_EXIT_CARD);
    EXPECT_EQ(escctl_exit_code(ESC_ERR_CANCELLED), ESCCTL_EXIT_CANCELLED);
    EXPECT_EQ(escctl_exit_code(ESC_ERR_ARG), ESCCTL_EXIT_CANCELLED); /* an unusable preset PIN */
    EXPECT_EQ(escctl_exit_code(ESC_ERR_CONF), ESCCTL_EXIT_CONF);     /* no phone-home URL */
}

/* Issue 11, defect 5: the TPS's per-message deadline is not pam_esc's timeout= (which pam_esc
 * reports as its own when the agent says ESC_ERR_TIMEOUT). */
static void test_tps_deadline_is_its_own_error(void)
{
    EXPECT(ESC_ERR_TPS_TIMEOUT != ESC_ERR_TIMEOUT);
    EXPECT(strcmp(esc_strerror(ESC_ERR_TPS_TIMEOUT), esc_strerror(ESC_ERR_TIMEOUT)) != 0);
    EXPECT_EQ(escctl_exit_code(ESC_ERR_TPS_TIMEOUT), ESCCTL_EXIT_NET);
}

#define Y2026 1767225600LL /* 2026-01-01 */
#define Y2027 1798761600LL /* 2027-01-01 */

static struct probe_facts card(enum probe_state st, size_t ncerts, long long not_after, int tries)
{
    struct probe_facts f;
    memset(&f, 0, sizeof f);
    f.state = st;
    f.ncerts = ncerts;
    f.not_after = not_after;
    f.pin_tries_left = tries;
    f.life_cycle = st == PROBE_UNINITIALIZED ? 7 : 0x0f;
    return f;
}

static char said[400];

static esc_err outcome(int op, struct probe_facts before, struct probe_facts after, esc_err err,
                       const char *sentence, int last_pct)
{
    struct tps_op_result r = {.last_pct = last_pct};
    snprintf(said, sizeof said, "%s", sentence);
    return agent_op_outcome(op, &before, &after, &r, err, said, sizeof said);
}

/* Defect 4: END_OP result 0 after no card work is not an enrollment. */
static void test_success_needs_the_card(void)
{
    struct probe_facts blank = card(PROBE_UNINITIALIZED, 0, 0, 5);
    struct probe_facts enrolled = card(PROBE_ENROLLED, 2, Y2027, 5);
    struct probe_facts expired = card(PROBE_EXPIRED, 2, Y2026, 5);
    struct probe_facts locked = card(PROBE_PIN_LOCKED, 2, Y2027, 0);

    EXPECT_EQ(outcome(TPS_OP_ENROLL, blank, blank, ESC_OK, "The card was enrolled.", 100),
              ESC_ERR_SERVER);
    EXPECT_STR(said, "The token server reported that the card was enrolled, but it did not "
                     "happen: it is not enrolled (0 certificates).");
    EXPECT_EQ(outcome(TPS_OP_ENROLL, blank, enrolled, ESC_OK, "The card was enrolled.", 100),
              ESC_OK);
    EXPECT_STR(said, "The card was enrolled: 2 certificates, valid until 2027-01-01.");

    /* renewal: a later notAfter or other certificates, or it did not happen */
    EXPECT_EQ(outcome(TPS_OP_RENEW, expired, enrolled, ESC_OK, "x", 100), ESC_OK);
    EXPECT_STR(said,
               "The certificates were renewed: valid until 2027-01-01 (before: until 2026-01-01).");
    EXPECT_EQ(outcome(TPS_OP_RENEW, expired, expired, ESC_OK, "x", 100), ESC_ERR_SERVER);
    EXPECT_STR(said, "The token server reported that the certificates were renewed, but it did "
                     "not happen: they are still valid only until 2026-01-01.");
    EXPECT_EQ(outcome(TPS_OP_RENEW, enrolled, enrolled, ESC_OK, "x", 100), ESC_ERR_SERVER);
    /* renewed within the same second as the last issuance: the same notAfter, other
     * certificates; the same ones read again are still no renewal */
    struct probe_facts old = enrolled, fresh = enrolled;
    old.certs_id = 0x1111;
    fresh.certs_id = 0x2222;
    EXPECT_EQ(outcome(TPS_OP_RENEW, old, fresh, ESC_OK, "x", 100), ESC_OK);
    EXPECT_EQ(outcome(TPS_OP_RENEW, old, old, ESC_OK, "x", 100), ESC_ERR_SERVER);

    /* PIN reset: the try counter must show it */
    EXPECT_EQ(outcome(TPS_OP_RESET_PIN, locked, locked, ESC_OK, "x", 100), ESC_ERR_SERVER);
    EXPECT(strstr(said, "its PIN is blocked") != NULL);
    EXPECT_EQ(outcome(TPS_OP_RESET_PIN, locked, enrolled, ESC_OK, "x", 100), ESC_OK);
    EXPECT_STR(said, "The card was given a new PIN (5 tries before it blocks).");

    /* format: no certificate left */
    EXPECT_EQ(outcome(TPS_OP_FORMAT, enrolled, enrolled, ESC_OK, "x", 100), ESC_ERR_SERVER);
    EXPECT_EQ(outcome(TPS_OP_FORMAT, enrolled, blank, ESC_OK, "x", 100), ESC_OK);
    EXPECT_STR(said, "The card was formatted: it holds no certificates.");

    /* a card that cannot be read back is no success either */
    struct probe_facts gone = card(PROBE_NO_CARD, 0, 0, -1);
    gone.err = ESC_ERR_NO_CARD;
    EXPECT_EQ(outcome(TPS_OP_ENROLL, blank, gone, ESC_OK, "x", 100), ESC_ERR_NO_CARD);
    /* one sentence, not the card error glued on after a colon (issue 11) */
    EXPECT_STR(said, "The token server reported that the card was enrolled, but the card was "
                     "removed before it could be read back; put it back and check it with escctl "
                     "status.");
    gone.err = ESC_ERR_PCSCD_HUNG;
    EXPECT_EQ(outcome(TPS_OP_ENROLL, blank, gone, ESC_OK, "x", 100), ESC_ERR_PCSCD_HUNG);
    EXPECT_STR(said, "The token server reported that the card was enrolled, but the card could "
                     "not be read back afterwards (the smart-card service (pcscd) does not "
                     "answer); check it with escctl status.");
}

static esc_err pin_outcome(struct probe_facts after, int pin_write)
{
    struct probe_facts locked = card(PROBE_PIN_LOCKED, 2, Y2027, 0);
    struct tps_op_result r = {.last_pct = 15, .pin_write = pin_write};
    snprintf(said, sizeof said, "The smart card was removed during the operation.");
    return agent_op_outcome(TPS_OP_RESET_PIN, &locked, &after, &r, ESC_ERR_CARD_REMOVED, said,
                            sizeof said);
}

/* Issue 11: a PIN reset cut by a pulled card says whether the new PIN is in force. */
static void test_pin_reset_cut_says_which_pin(void)
{
    struct probe_facts gone = card(PROBE_NO_CARD, 0, 0, -1);
    gone.err = ESC_ERR_NO_CARD;
    EXPECT_EQ(pin_outcome(gone, TPS_PIN_WRITTEN), ESC_ERR_CARD_REMOVED);
    EXPECT_STR(said, "The smart card was removed during the operation; the new PIN had already "
                     "been written to the card, so it is in force: use it when you put the card "
                     "back.");
    pin_outcome(gone, TPS_PIN_SENT);
    EXPECT(strstr(said, "may have it or still the old one") != NULL);
    pin_outcome(gone, TPS_PIN_UNTOUCHED);
    EXPECT_STR(said, "The smart card was removed during the operation; the PIN on the card was not "
                     "changed.");
}

/* Issue 11: a failure that left the card without its applet says it must be enrolled again. */
static void test_left_without_applet(void)
{
    struct probe_facts blank = card(PROBE_UNINITIALIZED, 0, 0, 5);
    struct probe_facts none = card(PROBE_NO_APPLET, 0, 0, -1);
    EXPECT_EQ(outcome(TPS_OP_ENROLL, blank, none, ESC_ERR_NETWORK,
                      "The connection to the token server was lost.", 20),
              ESC_ERR_NETWORK);
    EXPECT_STR(said, "The connection to the token server was lost; the card was left without its "
                     "card program (applet) and must be enrolled again before it can be used.");
    /* pulled between the applet's DELETE and its INSTALL: the same, told from the relay */
    struct probe_facts gone = card(PROBE_NO_CARD, 0, 0, -1);
    gone.err = ESC_ERR_NO_CARD;
    struct tps_op_result r = {.last_pct = 20, .applet = TPS_APPLET_GONE};
    snprintf(said, sizeof said, "The smart card was removed during the operation.");
    EXPECT_EQ(
        agent_op_outcome(TPS_OP_ENROLL, &blank, &gone, &r, ESC_ERR_CARD_REMOVED, said, sizeof said),
        ESC_ERR_CARD_REMOVED);
    EXPECT_STR(said, "The smart card was removed during the operation; the card was left without "
                     "its card program (applet) and must be enrolled again before it can be used.");
    /* pulled at the DELETE or the INSTALL itself: the card may or may not have its applet */
    r.applet = TPS_APPLET_INSTALLING;
    snprintf(said, sizeof said, "The smart card was removed during the operation.");
    agent_op_outcome(TPS_OP_ENROLL, &blank, &gone, &r, ESC_ERR_CARD_REMOVED, said, sizeof said);
    EXPECT(strstr(said, "may have been left without it") != NULL);
    /* installed again before the pull: nothing about the applet */
    r.applet = TPS_APPLET_KEPT;
    snprintf(said, sizeof said, "The smart card was removed during the operation.");
    agent_op_outcome(TPS_OP_ENROLL, &blank, &gone, &r, ESC_ERR_CARD_REMOVED, said, sizeof said);
    EXPECT_STR(said, "The smart card was removed during the operation.");
    /* a card that had none before: nothing new to say */
    EXPECT_EQ(outcome(TPS_OP_ENROLL, none, none, ESC_ERR_NETWORK,
                      "The connection to the token server was lost.", 20),
              ESC_ERR_NETWORK);
    EXPECT_STR(said, "The connection to the token server was lost.");
}

/* Defect 10: a failure that still changed the card says what the card is. */
static void test_failure_says_what_the_card_became(void)
{
    struct probe_facts blank = card(PROBE_UNINITIALIZED, 0, 0, 5);
    struct probe_facts enrolled = card(PROBE_ENROLLED, 2, Y2027, 5);
    struct probe_facts gone = card(PROBE_NO_CARD, 0, 0, -1);
    gone.err = ESC_ERR_NO_CARD;

    EXPECT_EQ(outcome(TPS_OP_ENROLL, blank, enrolled, ESC_ERR_NETWORK,
                      "The token server closed the connection before the end of the operation.",
                      100),
              ESC_ERR_NETWORK);
    EXPECT_STR(said, "The token server closed the connection before the end of the operation; "
                     "the card was written nonetheless: it is enrolled, its certificates valid "
                     "until 2027-01-01, but the token server may not have recorded it; run the "
                     "enrollment again so that it does.");
    /* pulled while the certificates were being written */
    EXPECT_EQ(outcome(TPS_OP_ENROLL, blank, gone, ESC_ERR_CARD_REMOVED,
                      "The card was removed during the operation.", 99),
              ESC_ERR_CARD_REMOVED);
    EXPECT(strstr(said, "The card was removed during the operation; the token server had started "
                        "writing the certificates") == said);
    EXPECT(strstr(said, "escctl status") != NULL);
    /* pulled before anything was written: nothing more to say */
    EXPECT_EQ(outcome(TPS_OP_ENROLL, blank, gone, ESC_ERR_CARD_REMOVED,
                      "The card was removed during the operation.", 15),
              ESC_ERR_CARD_REMOVED);
    EXPECT_STR(said, "The card was removed during the operation.");
    /* a refusal that left the card alone keeps its sentence */
    EXPECT_EQ(outcome(TPS_OP_ENROLL, blank, blank, ESC_ERR_AUTH_FAILED,
                      "The directory rejected the user ID or password.", 10),
              ESC_ERR_AUTH_FAILED);
    EXPECT_STR(said, "The directory rejected the user ID or password.");
}

static void test_absent_card_results(void)
{
    EXPECT_EQ(escctl_exit_code(ESC_ERR_NO_CARD), ESCCTL_EXIT_CARD);
    EXPECT_EQ(escctl_exit_code(ESC_ERR_NO_PCSCD), ESCCTL_EXIT_CARD);
    EXPECT_EQ(escctl_exit_code(ESC_ERR_CARD_REMOVED), ESCCTL_EXIT_CARD);
}

int main(void)
{
    RUN(test_engine_results_to_exit_codes);
    RUN(test_tps_deadline_is_its_own_error);
    RUN(test_success_needs_the_card);
    RUN(test_failure_says_what_the_card_became);
    RUN(test_pin_reset_cut_says_which_pin);
    RUN(test_left_without_applet);
    RUN(test_absent_card_results);
    return check_status();
}
