/* bench_relay bare|agent READER N APDUHEX: relay one APDU N times to the card in READER, for
 * callgrind (tests/bench/bench-cost counts the instructions per APDU: two runs, N and 2N, the
 * difference divided by N, so set-up and tear-down cancel out).
 *
 *   bare   a bare libpcsclite loop: SCardEstablishContext, SCardConnect, N x SCardTransmit.
 *   agent  the agent's own path for a TPS APDU: tps_op_run (agent/engine/tps_op.c) over a
 *          lock-step chunked HTTP conversation (tps_conv.c: libcurl connects, the HTTP is
 *          ours), each TOKEN_PDU_REQUEST %-decoded, sent with pcsc_transmit (common/pcsc.c) inside
 * a PC/SC transaction on a context bounded per call (pcsc_open_bounded) as agent_op.c does, the
 * TOKEN_PDU_RESPONSE encoded and sent back. The server is a forked child of this program on
 * 127.0.0.1 speaking plain HTTP (the reference TPS cannot be told to send N APDUs of our choice);
 * it sends the APDU N times, then END_OP. TLS is therefore not in the figure: its per-message cost
 * (one record each way) is left out on purpose, being the same for every client. Prints "apdus N
 * ok" on success. Exit 0 ok, 1 failure, 2 usage. */
#include "engine/tps_op.h"
#include "engine/trust.h"
#include "pcsc.h"
#include "tps_msg.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <winscard.h>

static int hexbytes(const char *s, unsigned char *out, size_t cap, size_t *n)
{
    size_t l = strlen(s);
    if (l % 2 || l / 2 > cap || l == 0)
        return -1;
    for (size_t i = 0; i < l / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    *n = l / 2;
    return 0;
}

static int bare(const char *reader, long n, const unsigned char *apdu, size_t alen)
{
    SCARDCONTEXT ctx;
    SCARDHANDLE h;
    DWORD proto, rl;
    unsigned char resp[258];
    long ok = 0;

    if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
        return 1;
    if (SCardConnect(ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &h,
                     &proto) != SCARD_S_SUCCESS) {
        SCardReleaseContext(ctx);
        return 1;
    }
    const SCARD_IO_REQUEST *pci = proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    for (long i = 0; i < n; i++) {
        rl = sizeof resp;
        if (SCardTransmit(h, pci, apdu, (DWORD)alen, NULL, resp, &rl) == SCARD_S_SUCCESS && rl >= 2)
            ok++;
    }
    SCardDisconnect(h, SCARD_LEAVE_CARD);
    SCardReleaseContext(ctx);
    printf("apdus %ld %s\n", ok, ok == n ? "ok" : "failed");
    return ok == n ? 0 : 1;
}

/* ---- the server side (the forked child) ---- */

#define RELAY_GAP_NS 5000000L /* between an answer and the next request (see serve) */

static int send_all(int fd, const char *b, size_t n)
{
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        b += w, n -= (size_t)w;
    }
    return 0;
}

/* One chunk of the client's chunked upload ("HEX\r\nDATA\r\n"); buffered in *buf. 0 ok, -1 EOF. */
static int read_chunk(int fd, char *buf, size_t *have, size_t cap)
{
    for (;;) {
        char *crlf = memmem(buf, *have, "\r\n", 2);
        if (crlf) {
            unsigned long len = strtoul(buf, NULL, 16);
            size_t need = (size_t)(crlf - buf) + 2 + len + 2;
            if (need <= *have) {
                memmove(buf, buf + need, *have - need);
                *have -= need;
                return len ? 0 : -1;
            }
        }
        if (*have == cap)
            return -1;
        ssize_t r = read(fd, buf + *have, cap - *have);
        if (r <= 0)
            return -1;
        *have += (size_t)r;
    }
}

static int send_msg(int fd, const char *payload)
{
    char body[TPS_FRAME_MAX + 1], chunk[TPS_FRAME_MAX + 32];
    int bl = snprintf(body, sizeof body, "s=%zu&%s", strlen(payload), payload);
    if (bl <= 0 || (size_t)bl >= sizeof body)
        return -1;
    int cl = snprintf(chunk, sizeof chunk, "%x\r\n%s\r\n", (unsigned)bl, body);
    return cl > 0 && (size_t)cl < sizeof chunk ? send_all(fd, chunk, (size_t)cl) : -1;
}

static void serve(int lfd, long n, const unsigned char *apdu, size_t alen)
{
    static char buf[65536];
    char req[512];
    size_t have = 0, o;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        _exit(1);
    /* the request headers, then BEGIN_OP (the first chunk) */
    for (;;) {
        char *end = memmem(buf, have, "\r\n\r\n", 4);
        if (end) {
            size_t h = (size_t)(end - buf) + 4;
            memmove(buf, buf + h, have - h);
            have -= h;
            break;
        }
        ssize_t r = read(fd, buf + have, sizeof buf - have);
        if (r <= 0)
            _exit(1);
        have += (size_t)r;
    }
    if (read_chunk(fd, buf, &have, sizeof buf) != 0)
        _exit(1);
    const char *hdr =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
    if (send_all(fd, hdr, strlen(hdr)) != 0)
        _exit(1);
    o = (size_t)snprintf(req, sizeof req, "msg_type=9&pdu_size=%zu&pdu_data=", alen);
    for (size_t i = 0; i < alen; i++)
        o += (size_t)snprintf(req + o, sizeof req - o, "%%%02X", apdu[i]);
    /* A TPS answers after a network round trip and its own work, never within microseconds:
     * without a pause here the client sometimes finds the next request already there when it
     * has sent its answer and sometimes waits for it (with libcurl's multi loop the two paths
     * differed by a third, a race that moved the figure by +-15% from run to run). 5 ms is
     * longer than the client's path under callgrind, so every APDU takes the path it takes
     * with a real TPS. */
    struct timespec gap = {.tv_nsec = RELAY_GAP_NS};
    for (long i = 0; i < n; i++) {
        if (i)
            nanosleep(&gap, NULL);
        if (send_msg(fd, req) != 0 || read_chunk(fd, buf, &have, sizeof buf) != 0)
            _exit(1);
    }
    if (send_msg(fd, "msg_type=13&operation=5&result=0&message=0") != 0 ||
        send_all(fd, "0\r\n\r\n", 5) != 0)
        _exit(1);
    (void)read_chunk(fd, buf, &have, sizeof buf); /* the client's end of the upload */
    close(fd);
    _exit(0);
}

/* ---- the agent's side ---- */

static int relay_transmit(void *ctx, const unsigned char *apdu, size_t alen, unsigned char *resp,
                          size_t *rlen, size_t rcap)
{
    return pcsc_transmit(ctx, apdu, alen, resp, rcap, rlen) == ESC_OK ? 0 : -1;
}

static int agent(const char *reader, long n, const unsigned char *apdu, size_t alen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    char url[64];
    pcsc_ctx *pc = NULL;
    pcsc_card *card = NULL;
    struct tps_op_result res;
    int status = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0)
        return 1;
    pid_t child = fork();
    if (child == 0)
        serve(lfd, n, apdu, alen);
    close(lfd);
    if (child < 0)
        return 1;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/tps/tps", ntohs(sa.sin_port));
    /* bounded as agent_op.c bounds an operation: as a whole and per call (card_timeout's
     * default, 60 s), the watchdog moved around every APDU */
    struct pcsc_bounds pb = {.timeout_ms = 600000, .call_ms = 60000, .acquire_ms = 3000};
    if (pcsc_open_bounded(&pc, &pb) == ESC_OK && pcsc_connect(pc, reader, &card) == ESC_OK &&
        pcsc_begin(card) == ESC_OK) {
        struct trust_policy trust = {.allowed_hosts = "127.0.0.1", .allow_http_hosts = "127.0.0.1"};
        struct tps_op_req rq = {.op = TPS_OP_FORMAT,
                                .url = url,
                                .trust = &trust,
                                .msg_timeout_ms = 30000,
                                .max_msgs = (unsigned long)n + 10};
        struct tps_op_ui ui = {0};
        struct tps_card_io io = {.transmit = relay_transmit, .ctx = card};
        tps_op_run(&rq, &ui, &io, &res);
        pcsc_end(card);
        printf("apdus %u %s\n", res.apdus,
               res.err == ESC_OK && res.apdus == (unsigned)n ? "ok" : res.sentence);
        status = res.err == ESC_OK && res.apdus == (unsigned)n ? 0 : 1;
    } else {
        fprintf(stderr, "bench_relay: no card in %s\n", reader);
    }
    if (card)
        pcsc_disconnect(card, false);
    pcsc_close(pc);
    int ws;
    if (waitpid(child, &ws, 0) != child || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        status = 1;
    return status;
}

int main(int argc, char **argv)
{
    unsigned char apdu[261];
    size_t alen;
    char *end;
    long n;

    if (argc != 5 || (strcmp(argv[1], "bare") != 0 && strcmp(argv[1], "agent") != 0) ||
        (n = strtol(argv[3], &end, 10)) <= 0 || *end || n > 1000000 ||
        hexbytes(argv[4], apdu, sizeof apdu, &alen) != 0) {
        fprintf(stderr, "usage: bench_relay bare|agent READER N APDUHEX\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    return argv[1][0] == 'b' ? bare(argv[2], n, apdu, alen) : agent(argv[2], n, apdu, alen);
}
