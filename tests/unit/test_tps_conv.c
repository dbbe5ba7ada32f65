/* test_tps_conv: the reference TPS's side of the conversation over a socketpair: one chunk per
 * message in one write, re-framing by s=<len> across any chunking, the per-message deadline,
 * and the fault knobs that act on numbered server messages. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "tpsd_conv.h"

static int peer;
static struct tpsd_conn conn;
static struct tpsd_conv conv;

static void setup(const char *faults_text, int timeout_ms)
{
    int sv[2];
    struct tpsd_faults f;
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    peer = sv[1];
    tpsd_conn_init(&conn, sv[0], 1, NULL, 1000);
    tpsd_faults_parse(&f, faults_text);
    tpsd_conv_init(&conv, &conn, &f, timeout_ms, NULL, 0);
}

static void teardown(void)
{
    tpsd_conn_close(&conn);
    close(peer);
}

static void send_end(int msg)
{
    struct tps_enc e;
    tps_enc_init(&e, TPS_MSG_END_OP);
    tps_enc_int(&e, "operation", 1);
    tps_enc_int(&e, "result", 0);
    tps_enc_int(&e, "message", msg);
    tpsd_conv_send(&conv, &e);
}

static void test_one_chunk_per_message(void)
{
    char buf[256];
    ssize_t n;
    setup("", 1000);
    send_end(0);
    n = read(peer, buf, sizeof(buf) - 1);
    EXPECT(n > 0);
    buf[n] = '\0';
    EXPECT_STR(buf, "2F\r\ns=42&msg_type=13&operation=1&result=0&message=0\r\n");
    teardown();
}

static void test_reframing(void)
{
    /* two messages in one chunk, then one message cut into three chunks inside "s=" */
    const char *in = "56\r\ns=38&msg_type=10&pdu_size=2&pdu_data=%90%00"
                     "s=38&msg_type=10&pdu_size=2&pdu_data=%6A%82\r\n"
                     "1\r\ns\r\n5\r\n=28&m\r\n1B\r\nsg_type=15&current_state=10\r\n";
    struct tps_msg m;
    long v;
    setup("", 1000);
    EXPECT(write(peer, in, strlen(in)) == (ssize_t)strlen(in));
    EXPECT_EQ(tpsd_conv_recv(&conv, &m), 0);
    EXPECT_EQ(m.type, TPS_MSG_TOKEN_PDU_RESPONSE);
    EXPECT_MEM(tps_msg_get(&m, "pdu_data")->val, "\x90\x00", 2);
    EXPECT_EQ(tpsd_conv_recv(&conv, &m), 0);
    EXPECT_MEM(tps_msg_get(&m, "pdu_data")->val, "\x6A\x82", 2);
    EXPECT_EQ(tpsd_conv_recv(&conv, &m), 0);
    EXPECT_EQ(m.type, TPS_MSG_STATUS_UPDATE_RESPONSE);
    EXPECT_EQ(tps_msg_long(&m, "current_state", 0, 100, &v), 0);
    EXPECT_EQ(v, 10);
    teardown();
}

static void test_deadline(void)
{
    struct tps_msg m;
    long long t0;
    setup("", 200);
    t0 = tpsd_now_ms();
    EXPECT_EQ(tpsd_conv_recv(&conv, &m), -1);
    EXPECT(tpsd_now_ms() - t0 >= 190 && tpsd_now_ms() - t0 < 1000);
    EXPECT(conv.failed);
    teardown();
}

static void test_client_ended(void)
{
    struct tps_msg m;
    setup("", 1000);
    EXPECT(write(peer, "0\r\n\r\n", 5) == 5);
    EXPECT_EQ(tpsd_conv_recv(&conv, &m), -1);
    teardown();
}

static void test_flood_refused(void)
{
    struct tps_msg m;
    char in[1024] = "";
    for (int i = 0; i < 6; i++)
        strcat(in, "F\r\ns=10&msg_type=15\r\n");
    setup("", 1000);
    EXPECT(write(peer, in, strlen(in)) == (ssize_t)strlen(in));
    EXPECT_EQ(tpsd_conv_recv(&conv, &m), -1);
    teardown();
}

static void test_bad_framing(void)
{
    struct tps_msg m;
    setup("", 1000);
    EXPECT(write(peer, "5\r\nsXabc\r\n", 10) == 10);
    EXPECT_EQ(tpsd_conv_recv(&conv, &m), -1);
    teardown();
}

static void test_fault_drop(void)
{
    char buf[256];
    ssize_t n, total = 0;
    setup("drop 1", 1000);
    send_end(0);
    EXPECT(conv.faulted && conv.failed);
    while ((n = read(peer, buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
        total += n;
    EXPECT_EQ(n, 0); /* clean EOF after the one chunk */
    EXPECT(total > 0 && memcmp(buf, "2F\r\n", 4) == 0);
    teardown();
}

static void test_fault_malformed(void)
{
    char buf[256];
    ssize_t n;
    struct tps_msg m;
    setup("malformed 1", 1000);
    send_end(0);
    n = read(peer, buf, sizeof(buf) - 1);
    EXPECT(n > 0);
    buf[n] = '\0';
    EXPECT(strstr(buf, "msg_type=13") == NULL);
    /* what was sent is framed correctly but does not decode */
    {
        char *payload = strchr(strchr(buf, '&'), 'm');
        char *end = strstr(payload, "\r\n");
        *end = '\0';
        EXPECT_EQ(tps_msg_decode(&m, payload, strlen(payload)), -1);
    }
    teardown();
}

static void test_fault_stall_and_latency(void)
{
    long long t0;
    setup("stall 2 1\nlatency 100", 1000);
    t0 = tpsd_now_ms();
    send_end(0);
    EXPECT(tpsd_now_ms() - t0 >= 95 && tpsd_now_ms() - t0 < 900);
    send_end(0);
    EXPECT(tpsd_now_ms() - t0 >= 1190);
    teardown();
}

int main(void)
{
    RUN(test_one_chunk_per_message);
    RUN(test_reframing);
    RUN(test_deadline);
    RUN(test_client_ended);
    RUN(test_flood_refused);
    RUN(test_bad_framing);
    RUN(test_fault_drop);
    RUN(test_fault_malformed);
    RUN(test_fault_stall_and_latency);
    return check_status();
}
