/* test_agent_tps_op: the operation engine against a scripted TPS started here (raw sockets,
 * chunked, lock-step). The server replays Dogtag-shaped messages and reports every message the
 * client sent, so the tests check the bytes on the wire: BEGIN_OP extensions, extended-login
 * answers with the TPS's ids, APDU relay with pdu_size/pdu_data, the raw new PIN, progress
 * echo, and END_OP mapped to a sentence; a refused host gets no connection and no prompt. */
#include "check.h"
#include "tps_msg.h"
#include "clock.h"
#include "engine/op_stop.h"
#include "engine/tps_op.h"
#include "engine/trust.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXT_LOGIN                                                                                  \
    "msg_type=16&invalid_pw=0&blocked=0&title=LDAP+Authentication&description=This+"               \
    "authenticates+user+against+the+LDAP+directory.&required_parameter0=id%3DUID%26name%"          \
    "3DLDAP+User+ID%26desc%3DLDAP+User+ID%26type%3Dstring%26option%3D&required_parameter1=id%"     \
    "3DPASSWORD%26name%3DLDAP+Password%26desc%3DLDAP+Password%26type%3Dpassword%26option%3D"

static const char *script_ok[] = {
    "msg_type=14&current_state=10&next_task_name=PROGRESS_PROCESS_PROFILE",
    EXT_LOGIN,
    "msg_type=9&pdu_size=5&pdu_data=%00%A4%04%00%00",
    "msg_type=9&pdu_size=7&pdu_data=%B0%3C%00%00%02%26%3D",
    "msg_type=11&minimum_length=4&maximum_length=10",
    "msg_type=14&current_state=100&next_task_name=PROGRESS_DONE_ENROLLMENT",
    "msg_type=13&operation=1&result=0&message=0",
    NULL,
};

static const char *script_bad_login[] = {
    EXT_LOGIN,
    "msg_type=13&operation=1&result=1&message=14",
    NULL,
};

/* "FLOOD:" sends the message after it again and again, each answered, until the client stops */
static const char *script_flood[] = {
    "FLOOD:msg_type=14&current_state=50&next_task_name=PROGRESS_KEY_GENERATION",
    NULL,
};

static const char *script_drop[] = {
    "msg_type=9&pdu_size=5&pdu_data=%00%A4%04%00%00", NULL, /* then close without END_OP */
};

/* END_OP alone, after one progress report; filled in by the test */
static char end_line[96];
static const char *script_end[] = {
    "msg_type=14&current_state=10&next_task_name=PROGRESS_PROCESS_PROFILE",
    end_line,
    NULL,
};

/* a TPS that answers BEGIN_OP and then goes quiet for longer than the message deadline */
static const char *script_stall[] = {
    "msg_type=14&current_state=10&next_task_name=PROGRESS_PROCESS_PROFILE",
    "STALL",
    NULL,
};

static int port;
static pid_t srv;
static int out_pipe[2];
static int connections;

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            _exit(9);
        p += w;
        n -= (size_t)w;
    }
}

struct rd {
    int fd;
    char raw[32768];
    size_t len;
    struct tps_framer fr;
    char got[4096];
    bool have;
};

static int grab(void *ctx, const char *p, size_t n)
{
    struct rd *r = ctx;
    if (n >= sizeof r->got)
        return -1;
    memcpy(r->got, p, n);
    r->got[n] = 0;
    r->have = true;
    return 0;
}

/* Read one client message (de-chunked). */
static int read_msg(struct rd *r)
{
    r->have = false;
    for (;;) {
        char *crlf;
        while ((crlf = memmem(r->raw, r->len, "\r\n", 2))) {
            size_t size = strtoul(r->raw, NULL, 16), hdr = (size_t)(crlf - r->raw) + 2;
            if (r->len < hdr + size + 2)
                break;
            if (size && tps_framer_push(&r->fr, r->raw + hdr, size, grab, r) != 0)
                return -1;
            memmove(r->raw, r->raw + hdr + size + 2, r->len - hdr - size - 2);
            r->len -= hdr + size + 2;
            if (r->have)
                return 0;
        }
        ssize_t n = recv(r->fd, r->raw + r->len, sizeof r->raw - r->len, 0);
        if (n <= 0)
            return -1;
        r->len += (size_t)n;
    }
}

static void serve(int lfd, const char **script)
{
    static struct rd r;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        _exit(1);
    if (write(out_pipe[1], "CONNECT\n", 8) != 8)
        _exit(1);
    r.fd = fd;
    tps_framer_init(&r.fr);
    /* skip request headers */
    while (!memmem(r.raw, r.len, "\r\n\r\n", 4)) {
        ssize_t n = recv(fd, r.raw + r.len, sizeof r.raw - r.len, 0);
        if (n <= 0)
            _exit(2);
        r.len += (size_t)n;
    }
    char *end = (char *)memmem(r.raw, r.len, "\r\n\r\n", 4) + 4;
    r.len -= (size_t)(end - r.raw);
    memmove(r.raw, end, r.len);
    const char *ok = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    send_all(fd, ok, strlen(ok));
    if (read_msg(&r) < 0)
        _exit(3);
    dprintf(out_pipe[1], "%s\n", r.got);
    for (int i = 0; script[i]; i++) {
        char chunk[8192], body[8000];
        if (strcmp(script[i], "STALL") == 0) {
            sleep(3);
            break;
        }
        if (strncmp(script[i], "FLOOD:", 6) == 0) {
            const char *m = script[i] + 6;
            int bl = snprintf(body, sizeof body, "s=%zu&%s", strlen(m), m);
            int n = snprintf(chunk, sizeof chunk, "%x\r\n%s\r\n", bl, body);
            unsigned long sent = 0;
            for (;; sent++) { /* until the client gives up; the count goes to the test */
                if (send(fd, chunk, (size_t)n, MSG_NOSIGNAL) != n || read_msg(&r) < 0)
                    break;
            }
            dprintf(out_pipe[1], "FLOODED %lu\n", sent);
            close(fd);
            _exit(0);
        }
        int bl = snprintf(body, sizeof body, "s=%zu&%s", strlen(script[i]), script[i]);
        int n = snprintf(chunk, sizeof chunk, "%x\r\n%s\r\n", bl, body);
        send_all(fd, chunk, (size_t)n);
        if (strncmp(script[i], "msg_type=13&", 12) == 0)
            break;
        if (read_msg(&r) < 0)
            _exit(4);
        dprintf(out_pipe[1], "%s\n", r.got);
    }
    send_all(fd, "0\r\n\r\n", 5);
    usleep(100000);
    close(fd);
    _exit(0);
}

static void start(const char **script)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (pipe(out_pipe) < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(lfd, 8) < 0 || getsockname(lfd, (struct sockaddr *)&a, &al) < 0)
        exit(2);
    port = ntohs(a.sin_port);
    srv = fork();
    if (srv == 0) {
        close(out_pipe[0]);
        alarm(20);
        serve(lfd, script);
    }
    close(lfd);
    close(out_pipe[1]);
}

/* Stop the server and return what it saw, one client message per line. */
static char *stop(void)
{
    static char buf[65536];
    size_t n = 0;
    ssize_t r;
    while ((r = read(out_pipe[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
    close(out_pipe[0]);
    kill(srv, SIGTERM);
    waitpid(srv, NULL, 0);
    connections = 0;
    for (char *p = buf; (p = strstr(p, "CONNECT\n")); p++)
        connections++;
    return buf;
}

/* ---- the card and the user ---- */

struct user {
    int asks, secret_asks, pin_asks, progress_calls, last_pct;
    char labels[512];
    char last_task[64];
};

static int ask(void *ctx, const struct tps_ask *q, char *out, size_t cap)
{
    struct user *u = ctx;
    u->asks++;
    strncat(u->labels, q->label, sizeof u->labels - strlen(u->labels) - 2);
    strcat(u->labels, "|");
    if (q->kind == TPS_ASK_NEW_PIN) {
        u->pin_asks++;
        if (q->min_len != 4 || q->max_len != 10)
            return -1;
        snprintf(out, cap, "1234");
    } else if (q->kind == TPS_ASK_SECRET) {
        u->secret_asks++;
        snprintf(out, cap, "p@ss w&rd");
    } else {
        snprintf(out, cap, "jsmith");
    }
    return 0;
}

static void progress(void *ctx, int pct, const char *task)
{
    struct user *u = ctx;
    u->progress_calls++;
    u->last_pct = pct;
    snprintf(u->last_task, sizeof u->last_task, "%s", task ? task : "");
}

static int transmit(void *ctx, const unsigned char *apdu, size_t alen, unsigned char *resp,
                    size_t *rlen, size_t rcap)
{
    (void)ctx;
    if (rcap < 4)
        return -1;
    /* answer: INS byte, Lc/Le byte, then 90 00 */
    resp[0] = apdu[1];
    resp[1] = (unsigned char)alen;
    resp[2] = 0x90;
    resp[3] = 0x00;
    *rlen = 4;
    return 0;
}

static void run(const char **script, const char *allowed, struct tps_op_req *req, struct user *u,
                struct tps_op_result *res, char **seen)
{
    static char url[128];
    struct tps_op_ui ui = {.ask = ask, .progress = progress, .ctx = u};
    struct tps_card_io card = {.transmit = transmit};
    start(script);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/tps/tps", port);
    req->url = url;
    static struct trust_policy tp;
    tp = (struct trust_policy){.allowed_hosts = allowed, .allow_http_hosts = "127.0.0.1"};
    req->trust = &tp;
    if (!req->msg_timeout_ms)
        req->msg_timeout_ms = 3000;
    memset(u, 0, sizeof *u);
    tps_op_run(req, &ui, &card, res);
    *seen = stop();
}

static void test_enroll_wire_bytes(void)
{
    struct tps_op_req req = {.op = TPS_OP_ENROLL,
                             .token_type = "userKey",
                             .atr_hex = "3BFF1400FF8131FE458025A00000005657534336353003003B"};
    struct user u;
    struct tps_op_result res;
    char *seen;
    run(script_ok, "127.0.0.1", &req, &u, &res, &seen);
    EXPECT_EQ(res.err, ESC_OK);
    EXPECT_STR(res.sentence, "The card was enrolled.");
    EXPECT_EQ(connections, 1);
    EXPECT(strstr(seen,
                  "CONNECT\nmsg_type=2&operation=1&extensions=tokenType%3DuserKey%26clientVersion%"
                  "3Dpam%5Fesc+0%2E1%26tokenATR%3D3BFF1400FF8131FE458025A0000000565753433635"
                  "3003003B%26statusUpdate%3Dtrue%26extendedLoginRequest%3Dtrue\n") == seen);
    EXPECT(strstr(seen, "\nmsg_type=15&current_state=10\n") != NULL);
    EXPECT(strstr(seen, "\nmsg_type=17&UID=jsmith&PASSWORD=p%40ss+w%26rd\n") != NULL);
    EXPECT(strstr(seen, "\nmsg_type=10&pdu_size=4&pdu_data=%A4%05%90%00\n") != NULL);
    EXPECT(strstr(seen, "\nmsg_type=10&pdu_size=4&pdu_data=%3C%07%90%00\n") != NULL);
    EXPECT(strstr(seen, "\nmsg_type=12&new_pin=1234\n") != NULL);
    EXPECT(strstr(seen, "\nmsg_type=15&current_state=100\n") != NULL);
    EXPECT_EQ(u.asks, 3);
    EXPECT_STR(u.labels, "LDAP User ID|LDAP Password|New PIN|");
    EXPECT_EQ(u.secret_asks, 1);
    EXPECT_EQ(u.pin_asks, 1);
    EXPECT_EQ(u.progress_calls, 2);
    EXPECT_EQ(u.last_pct, 100);
    EXPECT_STR(u.last_task, "PROGRESS_DONE_ENROLLMENT");
    EXPECT_EQ(res.apdus, 2u);
    EXPECT_EQ(res.stats.connects, 1);
}

static void test_preset_answers_no_prompt(void)
{
    struct tps_op_req req = {
        .op = TPS_OP_RESET_PIN, .user = "jsmith", .password = "secret", .new_pin = "87654321"};
    struct user u;
    struct tps_op_result res;
    char *seen;
    run(script_ok, "127.0.0.1", &req, &u, &res, &seen);
    EXPECT_EQ(res.err, ESC_OK);
    EXPECT_EQ(u.asks, 0);
    EXPECT(strstr(seen, "CONNECT\nmsg_type=2&operation=3&extensions=clientVersion") == seen);
    EXPECT(strstr(seen, "\nmsg_type=17&UID=jsmith&PASSWORD=secret\n") != NULL);
    EXPECT(strstr(seen, "\nmsg_type=12&new_pin=87654321\n") != NULL);
}

static void test_bad_pin_preset_refused(void)
{
    struct tps_op_req req = {.op = TPS_OP_ENROLL, .user = "j", .password = "p", .new_pin = "12"};
    struct user u;
    struct tps_op_result res;
    char *seen;
    run(script_ok, "127.0.0.1", &req, &u, &res, &seen);
    EXPECT_EQ(res.err, ESC_ERR_ARG);
    EXPECT_STR(res.sentence, "The new PIN must be 4 to 10 characters long.");
    EXPECT(strstr(seen, "msg_type=12") == NULL);
}

static void test_login_rejected_sentence(void)
{
    struct tps_op_req req = {.op = TPS_OP_ENROLL};
    struct user u;
    struct tps_op_result res;
    char *seen;
    run(script_bad_login, "127.0.0.1", &req, &u, &res, &seen);
    EXPECT_EQ(res.err, ESC_ERR_AUTH_FAILED);
    EXPECT_EQ(res.end_message, 14);
    EXPECT_STR(res.sentence, "The directory rejected the user ID or password.");
}

static void test_connection_lost(void)
{
    struct tps_op_req req = {.op = TPS_OP_FORMAT};
    struct user u;
    struct tps_op_result res;
    char *seen;
    run(script_drop, "127.0.0.1", &req, &u, &res, &seen);
    EXPECT_EQ(res.err, ESC_ERR_NETWORK);
    EXPECT(!res.end_seen);
    EXPECT(res.sentence[0] != 0);
}

/* What a user may be told after a successful END_OP, and nothing else. */
static bool success_sentence(const char *s)
{
    static const char *const ok[] = {
        "The card was enrolled.",        "The card was formatted.",
        "The card was given a new PIN.", "The certificates were renewed.",
        "The keys were recovered.",      "The token server reported that the operation succeeded.",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(s, ok[i]) == 0)
            return true;
    return false;
}

/* A failure sentence claims nothing was done (issue 11, defect 8: END_OP 44 result=1 said
 * "The certificates were renewed."; result=1 message=0 said "completed successfully"). */
static bool claims_success(const char *s)
{
    static const char *const words[] = {"success",        "complete",     "were renewed",
                                        "were recovered", "was enrolled", "was formatted",
                                        "given a new PIN"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(s, words[i]))
            return true;
    return false;
}

/* Every END_OP code Dogtag defines (EndOpMsg.TPSStatus 0..46), a few it does not, with both
 * results, for every operation: the sentence follows the result. */
static void test_end_op_sentence_follows_result(void)
{
    static const int ops[] = {TPS_OP_ENROLL, TPS_OP_FORMAT, TPS_OP_RESET_PIN, TPS_OP_RENEW,
                              TPS_OP_UNBLOCK};
    int bad = 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        for (int code = -1; code <= TPS_STATUS_MAX + 3; code++) {
            const char *good = tps_end_sentence(ops[i], TPS_RESULT_GOOD, code);
            const char *err = tps_end_sentence(ops[i], TPS_RESULT_ERROR, code);
            const char *odd = tps_end_sentence(ops[i], 7, code); /* neither 0 nor 1 */
            if (!success_sentence(good) || claims_success(err) || success_sentence(err) ||
                claims_success(odd) || strcmp(err, odd) != 0) {
                fprintf(stderr, "op %d code %d: result 0 \"%s\", result 1 \"%s\"\n", ops[i], code,
                        good, err);
                bad++;
            }
        }
    EXPECT_EQ(bad, 0);
    EXPECT_STR(tps_end_sentence(TPS_OP_ENROLL, 0, 44), "The certificates were renewed.");
    EXPECT_STR(tps_end_sentence(TPS_OP_ENROLL, 0, 36), "The keys were recovered.");
    EXPECT_STR(tps_end_sentence(TPS_OP_ENROLL, 1, 14),
               "The directory rejected the user ID or password.");
    EXPECT_STR(tps_end_sentence(TPS_OP_RENEW, 1, 0),
               "The token server did not perform the operation and gave no reason.");
}

/* The same through the wire: END_OP result/status as a TPS sends them. */
static void end_op_case(int result, int message, esc_err want_err, const char *want)
{
    struct tps_op_req req = {.op = TPS_OP_ENROLL, .user = "j", .password = "p"};
    struct user u;
    struct tps_op_result res;
    char *seen;
    snprintf(end_line, sizeof end_line, "msg_type=13&operation=1&result=%d&message=%d", result,
             message);
    run(script_end, "127.0.0.1", &req, &u, &res, &seen);
    EXPECT_EQ(res.err, want_err);
    EXPECT(res.end_seen);
    EXPECT_EQ(res.end_result, result);
    EXPECT_EQ(res.end_message, message);
    EXPECT_STR(res.sentence, want);
    EXPECT_EQ(res.last_pct, 10);
}

static void test_end_op_on_the_wire(void)
{
    end_op_case(0, 0, ESC_OK, "The card was enrolled.");
    end_op_case(0, 44, ESC_OK, "The certificates were renewed.");
    end_op_case(0, 36, ESC_OK, "The keys were recovered.");
    end_op_case(1, 44, ESC_ERR_TPS_REFUSED,
                "The token server reported a failure after renewing the certificates.");
    end_op_case(1, 36, ESC_ERR_TPS_REFUSED,
                "The token server reported a failure after recovering the keys.");
    end_op_case(1, 0, ESC_ERR_TPS_REFUSED,
                "The token server did not perform the operation and gave no reason.");
    end_op_case(1, 26, ESC_ERR_TPS_REFUSED, "This card is disabled on the token server.");
}

/* Issue 11, defect 5: the deadline named is the one that fired (the TPS's per-message one). */
static void test_timeout_names_the_message_deadline(void)
{
    struct tps_op_req req = {.op = TPS_OP_ENROLL, .msg_timeout_ms = 1000};
    struct user u;
    struct tps_op_result res;
    char *seen;
    run(script_stall, "127.0.0.1", &req, &u, &res, &seen);
    EXPECT_EQ(res.err, ESC_ERR_TPS_TIMEOUT);
    EXPECT_STR(res.sentence, "The token server did not answer within 1 second.");
}

static void test_refused_host_no_connection_no_prompt(void)
{
    struct tps_op_req req = {.op = TPS_OP_ENROLL};
    struct user u;
    struct tps_op_result res;
    char *seen;
    /* the server is there, but 127.0.0.1 is not allowed: nothing may reach it */
    struct tps_op_ui ui = {.ask = ask, .progress = progress, .ctx = &u};
    struct tps_card_io card = {.transmit = transmit};
    char url[128];
    memset(&u, 0, sizeof u);
    start(script_ok);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/tps/tps", port);
    req.url = url;
    struct trust_policy tp = {.allowed_hosts = "tps.example.com", .allow_http_hosts = ""};
    req.trust = &tp;
    EXPECT_EQ(tps_op_run(&req, &ui, &card, &res), ESC_ERR_UNTRUSTED_HOST);
    kill(srv, SIGTERM);
    seen = stop();
    EXPECT_EQ(connections, 0);
    EXPECT_EQ(u.asks, 0);
    EXPECT(!res.asked);
    EXPECT(strstr(res.sentence, "allowed_hosts") != NULL);
    tp.allowed_hosts = "127.0.0.1";
    EXPECT_EQ(tps_op_run(&req, &ui, &card, &res), ESC_ERR_UNTRUSTED_HOST);
    EXPECT(strstr(res.sentence, "https") != NULL);
    (void)seen;
}

/* A TPS that sends STATUS_UPDATE forever: stopped after max_msgs messages. */
static void test_flood_capped(void)
{
    struct tps_op_req req = {.op = TPS_OP_ENROLL, .max_msgs = 50};
    struct user u;
    struct tps_op_result res;
    char *seen;
    run(script_flood, "127.0.0.1", &req, &u, &res, &seen);
    EXPECT_EQ(res.err, ESC_ERR_PROTOCOL);
    EXPECT_EQ(res.stats.msgs_in, 51);
    EXPECT_EQ(u.progress_calls, 50);
    EXPECT_STR(res.sentence,
               "The token server sent more than 50 messages; the operation was stopped.");
    EXPECT(strstr(seen, "FLOODED 50\n") != NULL);
}

/* The same TPS without a cap: the operation's deadline ends it. */
static void test_flood_deadline(void)
{
    struct op_stop st;
    struct tps_op_req req = {.op = TPS_OP_ENROLL, .stop = &st};
    struct user u;
    struct tps_op_result res;
    char *seen;
    op_stop_init(&st, esc_mono_ms() + 400);
    run(script_flood, "127.0.0.1", &req, &u, &res, &seen);
    EXPECT_EQ(res.err, ESC_ERR_TIMEOUT); /* the overall deadline, not the TPS's */
    EXPECT_EQ(op_stop_check(&st), ESC_ERR_TIMEOUT);
    EXPECT(res.stats.wall_s < 2.0);
    EXPECT(res.stats.msgs_in > 1);
    op_stop_destroy(&st);
}

static void *cancel_later(void *arg)
{
    usleep(200000);
    op_stop_cancel(arg);
    return NULL;
}

/* A cancel from another thread (the hand-off's watcher) ends the conversation. */
static void test_cancel_from_another_thread(void)
{
    struct op_stop st;
    struct tps_op_req req = {.op = TPS_OP_ENROLL, .stop = &st};
    struct user u;
    struct tps_op_result res;
    char *seen;
    pthread_t t;
    op_stop_init(&st, 0);
    pthread_create(&t, NULL, cancel_later, &st);
    run(script_flood, "127.0.0.1", &req, &u, &res, &seen);
    pthread_join(t, NULL);
    EXPECT_EQ(res.err, ESC_ERR_CANCELLED);
    EXPECT_EQ(op_stop_check(&st), ESC_ERR_CANCELLED);
    EXPECT(res.stats.wall_s < 2.0);
    op_stop_destroy(&st);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    RUN(test_enroll_wire_bytes);
    RUN(test_preset_answers_no_prompt);
    RUN(test_bad_pin_preset_refused);
    RUN(test_login_rejected_sentence);
    RUN(test_connection_lost);
    RUN(test_refused_host_no_connection_no_prompt);
    RUN(test_end_op_sentence_follows_result);
    RUN(test_end_op_on_the_wire);
    RUN(test_timeout_names_the_message_deadline);
    RUN(test_flood_capped);
    RUN(test_flood_deadline);
    RUN(test_cancel_from_another_thread);
    curl_global_cleanup();
    return check_status();
}
