/* test_vcard_vpcd: the card's vpcd transport against a stand-in vpcd (a TCP listener in this
 * test): GET ATR answered with a T=1 ATR whose TCK is right, control bytes unanswered, APDU
 * frames answered, state saved after a state change, faults, clean exit when vpcd closes. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "test_vcard_util.h"
#include "vc_state.h"
#include "vc_vpcd.h"

struct server {
    int lfd, port;
    struct vc_card card;
    struct vc_fault fault;
    char state[128];
    int rc;
};

static void *serve(void *arg)
{
    struct server *s = arg;
    s->rc = vc_serve(&s->card, s->state, "127.0.0.1", s->port, &s->fault);
    return NULL;
}

static int listen_any(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
        return -1;
    *port = ntohs(sa.sin_port);
    return fd;
}

static int frame_out(int fd, const uint8_t *p, size_t n)
{
    uint8_t h[2] = {(uint8_t)(n >> 8), (uint8_t)n};
    return write(fd, h, 2) == 2 && write(fd, p, n) == (ssize_t)n ? 0 : -1;
}

static long frame_in(int fd, uint8_t *p, size_t cap)
{
    uint8_t h[2];
    size_t n, o = 0;
    if (recv(fd, h, 2, MSG_WAITALL) != 2)
        return -1;
    n = (size_t)(h[0] << 8 | h[1]);
    if (n > cap)
        return -1;
    while (o < n) {
        ssize_t r = recv(fd, p + o, n - o, 0);
        if (r <= 0)
            return -1;
        o += (size_t)r;
    }
    return (long)n;
}

static int start(struct server *s, const char *fault)
{
    vc_card_init(&s->card);
    s->card.package_loaded = s->card.applet_installed = true;
    vc_applet_wipe(&s->card, VC_DEFAULT_MEM);
    snprintf(s->state, sizeof(s->state), "/tmp/test_vcard_vpcd.%ld", (long)getpid());
    memset(&s->fault, 0, sizeof(s->fault));
    if (fault && vc_fault_parse(fault, &s->fault) != 0)
        return -1;
    return (s->lfd = listen_any(&s->port));
}

static void test_frames(void)
{
    struct server s;
    pthread_t t;
    uint8_t buf[600];
    static const uint8_t get_atr = 0x04, power_on = 0x01;
    static const uint8_t sel[12] = {0x00, 0xA4, 0x04, 0x00, 0x07, 0x62,
                                    0x76, 0x01, 0xFF, 0x00, 0x00, 0x00};
    static const uint8_t verify[9] = {0xB0, 0x42, 0x00, 0x00, 0x04, '9', '9', '9', '9'};
    EXPECT(start(&s, NULL) >= 0);
    vc_pin_set(&s.card.pins[0], (const uint8_t *)"1234", 4, 5);
    EXPECT(pthread_create(&t, NULL, serve, &s) == 0);
    int fd = accept(s.lfd, NULL, NULL);
    EXPECT(fd >= 0);
    EXPECT_EQ(frame_out(fd, &get_atr, 1), 0);
    long n = frame_in(fd, buf, sizeof(buf));
    EXPECT(n >= 4 && buf[0] == 0x3B);
    uint8_t x = 0;
    for (long i = 1; i < n; i++)
        x ^= buf[i];
    EXPECT_EQ(x, 0);                               /* TCK: XOR of T0..TCK is zero */
    EXPECT_EQ(frame_out(fd, &power_on, 1), 0);     /* no answer expected */
    EXPECT_EQ(frame_out(fd, sel, sizeof(sel)), 0); /* so this is the next answer */
    n = frame_in(fd, buf, sizeof(buf));
    EXPECT(n == 2 && buf[0] == 0x90 && buf[1] == 0x00);
    EXPECT_EQ(frame_out(fd, verify, sizeof(verify)), 0);
    n = frame_in(fd, buf, sizeof(buf));
    EXPECT(n == 2 && buf[0] == 0x9C && buf[1] == 0x02);
    /* the tries counter reached the state file before the answer went out */
    struct vc_card saved;
    EXPECT_EQ(vc_state_load(&saved, s.state), 0);
    EXPECT_EQ(saved.pins[0].tries_left, 4);
    vc_card_free(&saved);
    close(fd); /* vpcd goes away: the card returns 0 */
    pthread_join(t, NULL);
    EXPECT_EQ(s.rc, 0);
    close(s.lfd);
    unlink(s.state);
    vc_card_free(&s.card);
}

static void test_faults(void)
{
    struct server s;
    pthread_t t;
    uint8_t buf[600];
    static const uint8_t sel[12] = {0x00, 0xA4, 0x04, 0x00, 0x07, 0x62,
                                    0x76, 0x01, 0xFF, 0x00, 0x00, 0x00};
    struct vc_fault f;
    EXPECT_EQ(vc_fault_parse("vanish:0", &f), -1);
    EXPECT_EQ(vc_fault_parse("slow:-1", &f), -1);
    EXPECT_EQ(vc_fault_parse("loud", &f), -1);
    EXPECT(vc_fault_parse("slow:25", &f) == 0 && f.kind == VC_FAULT_SLOW && f.arg == 25);
    EXPECT(start(&s, "vanish:3") >= 0);
    EXPECT(pthread_create(&t, NULL, serve, &s) == 0);
    int fd = accept(s.lfd, NULL, NULL);
    EXPECT(fd >= 0);
    EXPECT_EQ(frame_out(fd, sel, sizeof(sel)), 0);
    EXPECT_EQ(frame_in(fd, buf, sizeof(buf)), 2);
    EXPECT_EQ(frame_out(fd, sel, sizeof(sel)), 0);
    EXPECT_EQ(frame_in(fd, buf, sizeof(buf)), 2);
    EXPECT_EQ(frame_out(fd, sel, sizeof(sel)), 0);
    EXPECT_EQ(frame_in(fd, buf, sizeof(buf)), -1); /* the 3rd APDU: connection closed */
    pthread_join(t, NULL);
    close(fd);
    close(s.lfd);
    unlink(s.state);
    vc_card_free(&s.card);
}

int main(void)
{
    RUN(test_frames);
    RUN(test_faults);
    return check_status();
}
