/* test_ops: the one table of card operations (common/ops.h): the names each reader accepts
 * (the same words in every case, both words of the PIN reset), operation sets as esc.conf and
 * pam_esc's operations= write them, what each operation sends to the TPS, and which card state
 * calls for which operation. */
#include "check.h"
#include "conf.h"
#include "ops.h"
#include "tps_msg.h"

#include <string.h>

static void test_names_in_any_case(void)
{
    EXPECT_EQ(esc_op_parse("enroll"), TPS_OP_ENROLL);
    EXPECT_EQ(esc_op_parse("Enroll"), TPS_OP_ENROLL); /* the word the two parsers disagreed on */
    EXPECT_EQ(esc_op_parse("ENROLL"), TPS_OP_ENROLL);
    EXPECT_EQ(esc_op_parse("format"), TPS_OP_FORMAT);
    EXPECT_EQ(esc_op_parse("renew"), TPS_OP_RENEW);
    EXPECT_EQ(esc_op_parse("pinreset"), TPS_OP_RESET_PIN);
    EXPECT_EQ(esc_op_parse("reset-pin"), TPS_OP_RESET_PIN);
    EXPECT_EQ(esc_op_parse("Reset-PIN"), TPS_OP_RESET_PIN);
}

static void test_unknown_names_refused(void)
{
    EXPECT_EQ(esc_op_parse("unblock"), -1); /* a TPS operation, not one we offer */
    EXPECT_EQ(esc_op_parse("none"), -1);    /* only a set may be none */
    EXPECT_EQ(esc_op_parse("enrol"), -1);
    EXPECT_EQ(esc_op_parse("enrolls"), -1);
    EXPECT_EQ(esc_op_parse(""), -1);
    EXPECT_EQ(esc_op_parse(NULL), -1);
    EXPECT(esc_op_find("enroll", 5) == NULL); /* a prefix is not the word */
    EXPECT(esc_op_find("renewal", 7) == NULL);
    EXPECT(esc_op_find("enroll,x", 6) == esc_op_get(TPS_OP_ENROLL));
}

static void test_sets(void)
{
    unsigned bits = 0xdead;
    EXPECT_EQ(esc_ops_parse("enroll pinreset", &bits), 0);
    EXPECT_EQ(bits, CONF_OP_ENROLL | CONF_OP_PINRESET);
    EXPECT_EQ(esc_ops_parse(" Renew,\tFORMAT, ,reset-pin ", &bits), 0);
    EXPECT_EQ(bits, CONF_OP_RENEW | CONF_OP_FORMAT | CONF_OP_PINRESET);
    EXPECT_EQ(esc_ops_parse("none", &bits), 0);
    EXPECT_EQ(bits, 0);
    EXPECT_EQ(esc_ops_parse("", &bits), 0);
    EXPECT_EQ(bits, 0);
    bits = 7;
    EXPECT_EQ(esc_ops_parse("enroll bogus", &bits), -1);
    EXPECT_EQ(bits, 7); /* untouched on an error */
    EXPECT_EQ(esc_ops_parse("enroll;renew", &bits), -1);
    EXPECT_EQ(esc_ops_parse(NULL, &bits), -1);
}

/* esc.conf and pam_esc's operations= read the same words the same way */
static void test_conf_reads_the_table(void)
{
    struct esc_conf c;
    char err[200];
    const char *t = "login_operations = Enroll, reset-pin\n";
    conf_defaults(&c);
    EXPECT_EQ(conf_parse(t, strlen(t), "t.conf", &c, err, sizeof err), ESC_OK);
    EXPECT_EQ(c.login_operations, CONF_OP_ENROLL | CONF_OP_PINRESET);
    t = "login_operations = enroll unblock\n";
    EXPECT_EQ(conf_parse(t, strlen(t), "t.conf", &c, err, sizeof err), ESC_ERR_CONF);
    EXPECT(strstr(err, "enroll pinreset renew format") != NULL);
}

static void test_state_calls_for(void)
{
    EXPECT_EQ(esc_op_for_state(PROBE_NO_APPLET), TPS_OP_ENROLL);
    EXPECT_EQ(esc_op_for_state(PROBE_UNINITIALIZED), TPS_OP_ENROLL);
    EXPECT_EQ(esc_op_for_state(PROBE_PIN_LOCKED), TPS_OP_RESET_PIN);
    EXPECT_EQ(esc_op_for_state(PROBE_EXPIRED), TPS_OP_RENEW);
    EXPECT_EQ(esc_op_for_state(PROBE_ENROLLED), 0);
    EXPECT_EQ(esc_op_for_state(PROBE_NO_CARD), 0);
    EXPECT_EQ(esc_op_for_state(PROBE_NO_PCSCD), 0);
    EXPECT_EQ(esc_op_for_state(PROBE_ERROR), 0);
}

/* renew goes out as BEGIN_OP operation 1 (Dogtag renews inside enroll) */
static void test_wire_operation(void)
{
    EXPECT_EQ(esc_op_get(TPS_OP_RENEW)->begin_op, TPS_OP_ENROLL);
    EXPECT_EQ(esc_op_get(TPS_OP_ENROLL)->begin_op, TPS_OP_ENROLL);
    EXPECT_EQ(esc_op_get(TPS_OP_RESET_PIN)->begin_op, TPS_OP_RESET_PIN);
    EXPECT_EQ(esc_op_get(TPS_OP_FORMAT)->begin_op, TPS_OP_FORMAT);
    EXPECT(esc_op_get(TPS_OP_UNBLOCK) == NULL);
}

static void test_words(void)
{
    EXPECT_STR(esc_op_word(TPS_OP_RESET_PIN), "pinreset");
    EXPECT_STR(esc_op_command(TPS_OP_RESET_PIN), "reset-pin");
    EXPECT_STR(esc_op_command(TPS_OP_RENEW), "renew");
    EXPECT_STR(esc_op_word(99), "unknown");
    /* every word reads back as its operation, and every bit is its own */
    unsigned seen = 0;
    static const int all[] = {TPS_OP_ENROLL, TPS_OP_RESET_PIN, TPS_OP_RENEW, TPS_OP_FORMAT};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const struct esc_op *o = esc_op_get(all[i]);
        EXPECT(o != NULL);
        EXPECT_EQ(esc_op_parse(o->word), all[i]);
        EXPECT_EQ(esc_op_parse(o->command), all[i]);
        EXPECT((seen & o->bit) == 0);
        seen |= o->bit;
        EXPECT(o->doing[0] && o->done[0]);
    }
    EXPECT_EQ(seen, CONF_OP_ALL);
}

int main(void)
{
    RUN(test_names_in_any_case);
    RUN(test_unknown_names_refused);
    RUN(test_sets);
    RUN(test_conf_reads_the_table);
    RUN(test_state_calls_for);
    RUN(test_wire_operation);
    RUN(test_words);
    return check_status();
}
