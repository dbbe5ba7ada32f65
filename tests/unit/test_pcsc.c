/* test_pcsc: the transport's bounds when there is nothing (or nothing alive) to talk to:
 * no socket, a stale socket nobody listens on, and a "pcscd" that accepts but never answers
 * (what a hung pcscd looks like). Each must give its own error within the deadline. The
 * rig-based cases (card present, pulled, garbage) are in tests/integration/escctl_status.sh. */
#include "check.h"
#include "pcsc.h"
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/test_pcsc.XXXXXX";
static char sock[100];

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int listen_on(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (strlen(path) >= sizeof sa.sun_path)
        return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4) != 0)
        return -1;
    return fd;
}

static void test_no_socket(void)
{
    pcsc_ctx *ctx = NULL;
    struct probe_facts f;
    struct probe_opts o = {.timeout_ms = 300};
    long t0;
    unlink(sock);
    setenv("PCSCLITE_CSOCK_NAME", sock, 1);
    t0 = now_ms();
    EXPECT_EQ(pcsc_open(&ctx, 300), ESC_ERR_NO_PCSCD);
    EXPECT(ctx == NULL);
    probe_card(&o, &f);
    EXPECT_EQ(f.state, PROBE_NO_PCSCD);
    EXPECT_EQ(f.err, ESC_ERR_NO_PCSCD);
    EXPECT(now_ms() - t0 < 100); /* design target under 10 ms; loose for a loaded CI */
    EXPECT_STR(probe_state_name(f.state), "NO_PCSCD");
}

static void test_stale_socket(void)
{
    pcsc_ctx *ctx = NULL;
    int fd = listen_on(sock);
    long t0;
    EXPECT(fd >= 0);
    close(fd); /* the socket file stays, nobody listens: ECONNREFUSED */
    setenv("PCSCLITE_CSOCK_NAME", sock, 1);
    t0 = now_ms();
    EXPECT_EQ(pcsc_open(&ctx, 300), ESC_ERR_NO_PCSCD);
    EXPECT(now_ms() - t0 < 100);
    unlink(sock);
}

static void test_hung_pcscd(void)
{
    pcsc_ctx *ctx = NULL;
    struct probe_facts f[4];
    struct probe_opts o = {.timeout_ms = 200};
    int fd = listen_on(sock);
    long t0, dt;
    size_t n;
    EXPECT(fd >= 0);
    setenv("PCSCLITE_CSOCK_NAME", sock, 1);
    t0 = now_ms();
    EXPECT_EQ(pcsc_open(&ctx, 250), ESC_ERR_PCSCD_HUNG);
    dt = now_ms() - t0;
    EXPECT(dt >= 240 && dt < 1000);
    t0 = now_ms();
    n = probe_all(&o, f, 4);
    dt = now_ms() - t0;
    EXPECT_EQ(n, 1);
    EXPECT_EQ(f[0].state, PROBE_NO_PCSCD);
    EXPECT_EQ(f[0].err, ESC_ERR_PCSCD_HUNG);
    EXPECT(dt >= 190 && dt < 1000);
    close(fd);
    unlink(sock);
}

/* A pcscd that answers the version handshake and then never answers again: pcsc-lite's
 * SCardEstablishContext blocks forever; the bounded probe must still return in time. */
static void test_pcscd_hangs_after_handshake(void)
{
    struct probe_opts o = {.timeout_ms = 200};
    struct probe_facts f[2];
    int fd = listen_on(sock);
    long t0, dt;
    pid_t server;
    EXPECT(fd >= 0);
    server = fork();
    EXPECT(server >= 0);
    if (server == 0) {
        for (;;) {
            uint32_t msg[5], reply[3] = {4, 4, 0};
            int c = accept(fd, NULL, NULL);
            if (c < 0)
                _exit(0);
            if (read(c, msg, sizeof msg) > 0 && write(c, reply, sizeof reply) < 0)
                _exit(0);
            /* c stays open: never answer again */
        }
    }
    close(fd);
    setenv("PCSCLITE_CSOCK_NAME", sock, 1);
    t0 = now_ms();
    probe_card(&o, &f[0]);
    dt = now_ms() - t0;
    EXPECT_EQ(f[0].state, PROBE_NO_PCSCD);
    EXPECT_EQ(f[0].err, ESC_ERR_PCSCD_HUNG);
    EXPECT(dt >= 200 && dt < 1000);
    t0 = now_ms();
    EXPECT_EQ(probe_all(&o, f, 2), 1);
    EXPECT_EQ(f[0].err, ESC_ERR_PCSCD_HUNG);
    EXPECT(now_ms() - t0 < 1000);
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
    unlink(sock);
}

static void test_args(void)
{
    EXPECT_EQ(pcsc_open(NULL, 0), ESC_ERR_ARG);
    EXPECT_EQ(pcsc_transmit(NULL, (const uint8_t *)"\0\0\0\0", 4, NULL, 0, NULL), ESC_ERR_ARG);
    pcsc_close(NULL);
    pcsc_disconnect(NULL, false);
    EXPECT_EQ(pcsc_err_from_rv(0x8010001DL), ESC_ERR_NO_PCSCD);  /* SCARD_E_NO_SERVICE */
    EXPECT_EQ(pcsc_err_from_rv(0x8010002EL), ESC_ERR_NO_READER); /* SCARD_E_NO_READERS_AVAILABLE */
    EXPECT_EQ(pcsc_err_from_rv(0x8010000CL), ESC_ERR_NO_CARD);   /* SCARD_E_NO_SMARTCARD */
    EXPECT_EQ(pcsc_err_from_rv(0x80100069L), ESC_ERR_CARD_REMOVED); /* SCARD_W_REMOVED_CARD */
    EXPECT_EQ(pcsc_err_from_rv(0x8010000BL), ESC_ERR_CARD_IN_USE);  /* SCARD_E_SHARING_VIOLATION */
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(sock, sizeof sock, "%s/pcscd.comm", dir);
    RUN(test_no_socket);
    RUN(test_stale_socket);
    RUN(test_hung_pcscd);
    RUN(test_pcscd_hangs_after_handshake);
    RUN(test_args);
    rmdir(dir);
    return check_status();
}
