/* test_tps_ops: the reference TPS's operations end to end against the virtual card in-process
 * (harness: test_tps_util.h). Shows: a blank card is formatted then enrolled (SCP02 and SCP01),
 * the card ends personalized (life cycle 0F) with a z0 holding two certificates from the test
 * CA, PIN 0 set to the new PIN; PIN reset and format keep the token database right; the
 * PIN_RESET and RESET_PIN_RESET_TO_NO policies. */
#include "test_tps_util.h"

static void enroll_blank(int scp)
{
    struct tpsd_client_result r;
    struct tpsd_token t;
    struct tpsd_z0 z;
    card_p = &cards[scp == 2 ? 0 : 1];
    vc_card_init(card_p);
    card_p->scp = scp;
    EXPECT_EQ(run_op(1, "24681357", &r), 0);
    EXPECT(r.end_op);
    EXPECT_EQ(r.result, 0);
    EXPECT_EQ(r.message, 0);
    EXPECT(r.new_pin && r.pin_min == 4 && r.pin_max == 10);
    EXPECT(!r.login && !r.ext_login); /* noAuth */
    EXPECT(r.n_progress >= 6);
    EXPECT_EQ(r.progress[r.n_progress - 1], 100);
    EXPECT_EQ(card_p->lifecycle, 0x0F);
    EXPECT(verify_pin("24681357"));
    EXPECT(card_z0(&z) == 0);
    EXPECT_EQ(z.n_certs, 2);
    tpsd_z0_free(&z);
    token(&t);
    EXPECT_EQ(t.status, TS_ACTIVE);
    EXPECT(strchr(t.certs, ',') != NULL);
}

static void test_enroll_blank_scp02(void)
{
    enroll_blank(2);
}

static void test_enroll_blank_scp01(void)
{
    enroll_blank(1);
}

static void test_pin_reset(void)
{
    struct tpsd_client_result r;
    EXPECT_EQ(run_op(3, "97531246", &r), 0);
    EXPECT_EQ(r.result, 0);
    EXPECT(verify_pin("97531246"));
    EXPECT(!verify_pin("24681357"));
}

/* RESET_PIN_RESET_TO_NO: one more reset is allowed, then the policy says PIN_RESET=NO */
static void test_pin_reset_once(void)
{
    struct tpsd_client_result r;
    struct tpsd_token t;
    set_policy("PIN_RESET=YES;RESET_PIN_RESET_TO_NO=YES");
    EXPECT_EQ(run_op(3, "97531246", &r), 0);
    EXPECT_EQ(r.result, 0);
    token(&t);
    EXPECT(strstr(t.policy, "PIN_RESET=NO") != NULL);
    EXPECT_EQ(run_op(3, "11112222", &r), 0);
    EXPECT_EQ(r.result, 1);
    EXPECT_EQ(r.message, 27);
    EXPECT(!r.new_pin);
    EXPECT(verify_pin("97531246"));
    set_policy("");
}

/* Dogtag's stock tokendb.defaultPolicy says PIN_RESET=NO: 27 without the rig's --default-policy */
static void test_pin_reset_default_policy_refuses(void)
{
    struct tpsd_client_result r;
    const char *saved = cfg.default_policy;
    set_policy("");
    cfg.default_policy =
        "RE_ENROLL=YES;RENEW=NO;FORCE_FORMAT=NO;PIN_RESET=NO;RESET_PIN_RESET_TO_NO=NO";
    EXPECT_EQ(run_op(3, "11112222", &r), 0);
    EXPECT_EQ(r.result, 1);
    EXPECT_EQ(r.message, 27);
    cfg.default_policy = saved;
    EXPECT(verify_pin("97531246"));
}

static void test_format_then_pin_reset_refused(void)
{
    struct tpsd_client_result r;
    struct tpsd_token t;
    static const uint8_t id[4] = {'z', '0', 0, 0};
    EXPECT_EQ(run_op(5, NULL, &r), 0);
    EXPECT_EQ(r.result, 0);
    EXPECT_EQ(card_p->lifecycle, 0x07);
    EXPECT(vc_obj_find(card_p, id) == NULL);
    token(&t);
    EXPECT_EQ(t.status, TS_FORMATTED);
    EXPECT_EQ(run_op(3, "11112222", &r), 0);
    EXPECT_EQ(r.result, 1);
    EXPECT_EQ(r.message, 27);
}

int main(void)
{
    static const char *const extra[] = {
        "--default-policy", "RE_ENROLL=YES;RENEW=NO;FORCE_FORMAT=NO;PIN_RESET=YES", NULL};
    if (tt_setup(extra) < 0)
        return 1;
    RUN(test_enroll_blank_scp02);
    RUN(test_enroll_blank_scp01);
    RUN(test_pin_reset);
    RUN(test_pin_reset_default_policy_refuses);
    RUN(test_pin_reset_once);
    RUN(test_format_then_pin_reset_refused);
    if (tt_teardown() < 0)
        return 1;
    return check_status();
}
