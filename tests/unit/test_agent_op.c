/* test_agent_op: what a user of escctl sees for each outcome: the esc_err an engine result
 * maps to, and the documented exit code (escctl.h, escctl_ops.h). */
#include "engine/agent_op.h"
#include "check.h"
#include "escctl/escctl_ops.h"

static int code_for(int rc, int conv_rc, int end_message)
{
    struct tps_op_result r = {.rc = rc, .conv_rc = conv_rc, .end_message = end_message};
    return escctl_exit_code(agent_op_err(&r));
}

static void test_engine_results_to_exit_codes(void)
{
    EXPECT_EQ(code_for(TPS_OP_OK, TPS_CONV_OK, 0), 0);
    EXPECT_EQ(code_for(TPS_OP_SERVER, TPS_CONV_OK, 14), ESCCTL_EXIT_AUTH);
    EXPECT_EQ(code_for(TPS_OP_SERVER, TPS_CONV_OK, 43), ESCCTL_EXIT_REFUSED);
    EXPECT_EQ(code_for(TPS_OP_UNTRUSTED, 0, 0), ESCCTL_EXIT_UNTRUSTED);
    EXPECT_EQ(code_for(TPS_OP_NET, TPS_CONV_CONNECT, 0), ESCCTL_EXIT_NET);
    EXPECT_EQ(code_for(TPS_OP_NET, TPS_CONV_TLS, 0), ESCCTL_EXIT_NET);
    EXPECT_EQ(code_for(TPS_OP_NET, TPS_CONV_TIMEOUT, 0), ESCCTL_EXIT_NET);
    EXPECT_EQ(code_for(TPS_OP_NET, TPS_CONV_CLOSED, 0), ESCCTL_EXIT_NET);
    EXPECT_EQ(code_for(TPS_OP_PROTOCOL, TPS_CONV_PROTOCOL, 0), ESCCTL_EXIT_NET);
    EXPECT_EQ(code_for(TPS_OP_CARD, TPS_CONV_ABORTED, 0), ESCCTL_EXIT_CARD);
    EXPECT_EQ(code_for(TPS_OP_CANCELLED, TPS_CONV_ABORTED, 0), ESCCTL_EXIT_CANCELLED);
    EXPECT_EQ(code_for(TPS_OP_INPUT, TPS_CONV_ABORTED, 0), ESCCTL_EXIT_CANCELLED);
}

static void test_phone_home_results(void)
{
    EXPECT_EQ(escctl_exit_code(agent_ph_err(PH_OK)), 0);
    EXPECT_EQ(escctl_exit_code(agent_ph_err(PH_NO_URL)), ESCCTL_EXIT_CONF);
    EXPECT_EQ(escctl_exit_code(agent_ph_err(PH_UNTRUSTED)), ESCCTL_EXIT_UNTRUSTED);
    EXPECT_EQ(escctl_exit_code(agent_ph_err(PH_CONNECT)), ESCCTL_EXIT_NET);
    EXPECT_EQ(escctl_exit_code(agent_ph_err(PH_TLS)), ESCCTL_EXIT_NET);
    EXPECT_EQ(escctl_exit_code(agent_ph_err(PH_PARSE)), ESCCTL_EXIT_NET);
    EXPECT_EQ(escctl_exit_code(ESC_ERR_NO_CARD), ESCCTL_EXIT_CARD);
    EXPECT_EQ(escctl_exit_code(ESC_ERR_NO_PCSCD), ESCCTL_EXIT_CARD);
    EXPECT_EQ(escctl_exit_code(ESC_ERR_CARD_REMOVED), ESCCTL_EXIT_CARD);
    EXPECT_EQ(escctl_exit_code(ESC_ERR_CONF), ESCCTL_EXIT_CONF);
}

static void test_operation_names(void)
{
    EXPECT_EQ(agent_op_parse("enroll"), TPS_OP_ENROLL);
    EXPECT_EQ(agent_op_parse("format"), TPS_OP_FORMAT);
    EXPECT_EQ(agent_op_parse("reset-pin"), TPS_OP_RESET_PIN);
    EXPECT_EQ(agent_op_parse("pinreset"), TPS_OP_RESET_PIN);
    EXPECT_EQ(agent_op_parse("renew"), TPS_OP_RENEW);
    EXPECT_EQ(agent_op_parse("unblock"), -1);
    EXPECT_EQ(agent_op_parse(NULL), -1);
}

int main(void)
{
    RUN(test_engine_results_to_exit_codes);
    RUN(test_phone_home_results);
    RUN(test_operation_names);
    return check_status();
}
