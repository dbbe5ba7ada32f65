/* vc_vpcd.c: the vpcd transport. Frames are a 2-byte big-endian length then the payload; a
 * 1-byte payload is a control byte (00 power off, 01 power on, 02 reset, 04 get ATR - only
 * GET ATR is answered); a longer one is a command APDU answered with exactly one frame. The
 * TCP connection is the card's presence: closing it pulls the card. */
#include "vc_vpcd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vc_state.h"

static volatile sig_atomic_t stop_requested, reload_requested;
static const char *busy_path; /* vc_serve_busy_file */

/* Slow mode: on-card RSA key generation takes seconds on a physical CoolKey card, far more than
 * any other APDU (issue 12's slow-card model takes 2 s); the slow card adds this much to a
 * successful GENERATE KEY (CLA 8x, INS 0C). */
#define SLOW_KEYGEN_MS 2000UL

void vc_serve_busy_file(const char *path)
{
    busy_path = path;
}

static void sleep_ms(unsigned long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop_requested)
        ;
}

static unsigned long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
}

/* The card's own busy time so far, for make bench: one fixed-width line rewritten in place
 * after every answer ("apdus busy_us keygens"). */
static void busy_write(int fd, unsigned long apdus, unsigned long long busy, unsigned long kg)
{
    char line[64];
    int n = snprintf(line, sizeof line, "%20lu %20llu %10lu\n", apdus, busy, kg);
    if (fd >= 0 && n > 0 && (size_t)n < sizeof line && pwrite(fd, line, (size_t)n, 0) != n)
        fprintf(stderr, "vcard: cannot write the busy file\n");
}

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_requested = 1;
    else
        stop_requested = 1;
}

/* SIGHUP: the state file is read again before the next APDU, the card staying in the reader
 * (a test puts a saved state back between cases without a removal pcscd takes seconds to
 * see), and the fault with it: STATE.fault holds one fault mode ("vanish:12"; missing or
 * empty: none), its APDU count starting again. The card is reset as at power-on. */
/* STATE.trace, if it exists when the card is inserted or reloaded: one line per APDU, "N CLA INS"
 * (N counted as the vanish fault counts), so a test can cut an operation at each of its steps. */
static FILE *trace;

static void trace_open(const char *state_path)
{
    char path[4096];
    if (trace)
        fclose(trace);
    trace = NULL;
    if (!state_path)
        return;
    snprintf(path, sizeof(path), "%s.trace", state_path);
    if (access(path, F_OK) == 0)
        trace = fopen(path, "ae");
}

static void reload(struct vc_card *c, const char *state_path, struct vc_fault *f,
                   unsigned long *napdu)
{
    char path[4096], mode[64] = "";
    FILE *fp;
    reload_requested = 0;
    if (!state_path)
        return;
    memset(f, 0, sizeof(*f));
    *napdu = 0;
    snprintf(path, sizeof(path), "%s.fault", state_path);
    if ((fp = fopen(path, "re"))) {
        if (fgets(mode, sizeof(mode), fp))
            mode[strcspn(mode, "\r\n")] = '\0';
        fclose(fp);
    }
    if (mode[0] && vc_fault_parse(mode, f) != 0) {
        fprintf(stderr, "vcard: unknown fault '%s' in %s; no fault\n", mode, path);
        memset(f, 0, sizeof(*f));
    }
    vc_card_free(c);
    if (vc_state_load(c, state_path) != 0)
        fprintf(stderr, "vcard: reloading %s failed; the card is blank\n", state_path);
    else
        fprintf(stderr, "vcard: state reloaded from %s\n", state_path);
    vc_card_reset(c);
    trace_open(state_path);
}

int vc_fault_parse(const char *s, struct vc_fault *f)
{
    char *end;
    memset(f, 0, sizeof(*f));
    if (strcmp(s, "garbage") == 0)
        f->kind = VC_FAULT_GARBAGE;
    else if (strcmp(s, "short") == 0)
        f->kind = VC_FAULT_SHORT;
    else if (strcmp(s, "long") == 0)
        f->kind = VC_FAULT_LONG;
    else if (strncmp(s, "vanish:", 7) == 0 || strncmp(s, "slow:", 5) == 0) {
        const char *v = strchr(s, ':') + 1;
        f->kind = s[0] == 'v' ? VC_FAULT_VANISH : VC_FAULT_SLOW;
        errno = 0;
        f->arg = strtoul(v, &end, 10);
        if (!*v || *v == '-' || *end || errno || f->arg > 600000 ||
            (f->kind == VC_FAULT_VANISH && f->arg == 0))
            return -1;
    } else
        return -1;
    return 0;
}

static int read_full(int fd, uint8_t *b, size_t n)
{
    size_t o = 0;
    int one = 1;
    while (o < n) {
        /* vpcd writes a frame in two parts; re-arm QUICKACK so the card's delayed ACK does
         * not add 40 ms to every APDU (notes/common-vcard-latency.md) */
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        ssize_t r = read(fd, b + o, n - o);
        if (r < 0 && errno == EINTR && !stop_requested)
            continue;
        if (r <= 0)
            return -1;
        o += (size_t)r;
    }
    return 0;
}

static int send_frame(int fd, const uint8_t *b, size_t n)
{
    uint8_t f[2 + 512];
    if (n > sizeof(f) - 2)
        return -1;
    f[0] = (uint8_t)(n >> 8);
    f[1] = (uint8_t)n;
    memcpy(f + 2, b, n);
    for (size_t off = 0; off < n + 2;) {
        ssize_t w = send(fd, f + off, n + 2 - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR && !stop_requested)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

/* ATR: 3B 8A 80 01 + 10 historical bytes + TCK (T=1 present, so TCK = XOR of T0..last). */
static size_t atr(uint8_t out[15])
{
    static const uint8_t a[14] = {0x3B, 0x8A, 0x80, 0x01, 'P', 'A', 'M',
                                  'E',  'S',  'C',  '-',  'V', 'C', 'D'};
    uint8_t x = 0;
    memcpy(out, a, sizeof(a));
    for (size_t i = 1; i < sizeof(a); i++)
        x ^= a[i];
    out[sizeof(a)] = x;
    return sizeof(a) + 1;
}

static int connect_vpcd(const char *host, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "vcard: '%s' is not an IPv4 address\n", host);
        return -1;
    }
    for (int attempt = 0; attempt < 100 && !stop_requested; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
        if (fd < 0)
            return -1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return fd;
        close(fd);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "vcard: cannot connect to vpcd at %s:%d\n", host, port);
    return -1;
}

/* A successful CoolKey GENERATE KEY (CLA 80/84, INS 0C, answer ending 90 00). */
static bool is_keygen(const uint8_t *cmd, size_t n, const uint8_t *resp, size_t rl)
{
    return n >= 4 && (cmd[0] & 0xF0) == 0x80 && cmd[1] == 0x0C && rl >= 2 && resp[rl - 2] == 0x90 &&
           resp[rl - 1] == 0x00;
}

/* Rewrites the answer to the n-th APDU for the configured fault. Returns -1 to vanish. */
static int apply_fault(const struct vc_fault *f, unsigned long n, bool keygen, uint8_t *resp,
                       size_t *len)
{
    switch (f->kind) {
    case VC_FAULT_GARBAGE:
        if (n >= 2) {
            *len = 2 + (size_t)(n % 13);
            if (!vc_random(resp, *len))
                memset(resp, 0xA5, *len);
            resp[*len - 2] = 0x13; /* no SW1 of ISO 7816-4 starts with 1x */
        }
        return 0;
    case VC_FAULT_SHORT:
        if (n >= 2)
            *len = 1;
        return 0;
    case VC_FAULT_LONG:
        if (n >= 2) {
            memset(resp, 0x5A, 300);
            resp[300] = 0x90;
            resp[301] = 0x00;
            *len = 302;
        }
        return 0;
    case VC_FAULT_VANISH:
        return n >= f->arg ? -1 : 0;
    case VC_FAULT_SLOW:
        sleep_ms(f->arg + (keygen ? SLOW_KEYGEN_MS : 0));
        return 0;
    default:
        return 0;
    }
}

static int save(struct vc_card *c, const char *path)
{
    if (!c->dirty || !path)
        return 0;
    if (vc_state_save(c, path) != 0)
        return -1;
    c->dirty = false;
    return 0;
}

int vc_serve(struct vc_card *c, const char *state_path, const char *host, int port,
             const struct vc_fault *fault)
{
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: read() returns EINTR */
    static uint8_t cmd[65536];
    uint8_t resp[512];
    unsigned long napdu = 0, nkeygen = 0;
    unsigned long long busy = 0;
    int rc = 0, bfd = -1;
    const char *why = "vpcd closed";
    struct vc_fault cur = *fault;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    int fd = connect_vpcd(host, port);
    if (fd < 0)
        return stop_requested ? 0 : 1;
    if (busy_path) {
        bfd = open(busy_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (bfd < 0)
            fprintf(stderr, "vcard: cannot open the busy file %s\n", busy_path);
        busy_write(bfd, 0, 0, 0);
    }
    fprintf(stderr, "vcard: inserted (connected to vpcd %s:%d)\n", host, port);
    vc_card_reset(c);
    trace_open(state_path);
    while (!stop_requested) {
        uint8_t h[2];
        if (read_full(fd, h, 2) != 0)
            break;
        size_t n = (size_t)h[0] << 8 | h[1];
        if (n == 0 || read_full(fd, cmd, n) != 0)
            break;
        if (reload_requested)
            reload(c, state_path, &cur, &napdu);
        if (n == 1) {
            if (cmd[0] == 0x04) {
                uint8_t a[15];
                size_t al = atr(a);
                if (send_frame(fd, a, al) != 0)
                    break;
            } else if (cmd[0] <= 0x02) {
                vc_card_reset(c); /* power off, power on, reset: transient state goes */
            }
            continue;
        }
        unsigned long long t0 = now_us();
        size_t rl = vc_card_apdu(c, cmd, n, resp);
        bool keygen = is_keygen(cmd, n, resp, rl);
        if (save(c, state_path) != 0) {
            rc = 1;
            break;
        }
        if (trace) {
            fprintf(trace, "%lu %02X %02X\n", napdu + 1, cmd[0], cmd[1]);
            fflush(trace);
        }
        if (apply_fault(&cur, ++napdu, keygen, resp, &rl) != 0) {
            why = "fault: vanished";
            fprintf(stderr, "vcard: fault: vanishing at APDU %lu\n", napdu);
            break;
        }
        if (send_frame(fd, resp, rl) != 0)
            break;
        busy += now_us() - t0;
        nkeygen += keygen;
        busy_write(bfd, napdu, busy, nkeygen);
    }
    close(fd);
    if (bfd >= 0)
        close(bfd);
    if (trace)
        fclose(trace);
    trace = NULL;
    if (save(c, state_path) != 0)
        rc = 1;
    fprintf(stderr, "vcard: removed (%s)\n", stop_requested ? "signal" : why);
    return rc;
}
