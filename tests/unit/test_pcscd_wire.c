/* test_pcscd_wire: pcscd's client protocol as we speak it ourselves (common/pcscd_wire.h),
 * against a stand-in "pcscd" on a socket of the test's: the readers a GET_READERS_STATE answer
 * holds, each way the answer can go wrong (refused version, cut short, never sent, no pcscd),
 * and a remembered card decided by probe_card() from that one answer, with no libpcsclite
 * context (the stand-in answers nothing else; libpcsclite's ESTABLISH_CONTEXT would fail). The
 * real pcscd is spoken to in tests/integration/pam_cache.sh and by make bench. */
#include "check.h"
#include "pcscd_wire.h"
#include "probe.h"

#include <PCSC/pcsclite.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/test_pcscd_wire.XXXXXX";
static char sock[100];

enum how { GOOD, REFUSE, CUT, SILENT };

static void fill_states(struct pcscd_reader_state *st)
{
    static const unsigned char atr[] = {0x3B, 0xFF, 0x14, 0x00, 0xFF, 0x81, 0x31, 0xFE};

    memset(st, 0, PCSCD_STATES_SIZE);
    snprintf(st[0].name, sizeof st[0].name, "Reader A 00 00");
    st[0].event_counter = 0x10005; /* only the low 16 bits count, as in dwEventState */
    st[0].state = SCARD_PRESENT | SCARD_POWERED | SCARD_NEGOTIABLE;
    memcpy(st[0].atr, atr, sizeof atr);
    st[0].atr_len = sizeof atr;
    snprintf(st[1].name, sizeof st[1].name, "Reader B 00 00");
    st[1].state = SCARD_ABSENT;
    memset(st[3].name, 'x', sizeof st[3].name); /* no NUL: not a reader we can name */
    st[3].state = SCARD_PRESENT;
    snprintf(st[4].name, sizeof st[4].name, "Reader C 00 00");
    st[4].state = SCARD_PRESENT;
    st[4].atr_len = 200; /* longer than an ATR can be: read as none */
}

/* A stand-in pcscd for one connection, answering as `how` says; returns its pid. */
static pid_t serve(enum how how)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    pid_t pid;

    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    unlink(sock);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 4) != 0)
        return -1;
    pid = fork();
    if (pid != 0) {
        close(l);
        return pid;
    }
    int c = accept(l, NULL, NULL);
    char req[28];
    struct pcscd_version v = {.major = 4, .minor = 4};
    static struct pcscd_reader_state st[PCSCD_READER_SLOTS];
    size_t have = 0;

    while (c >= 0 && have < sizeof req) {
        ssize_t k = read(c, req + have, sizeof req - have);
        if (k <= 0)
            _exit(1);
        have += (size_t)k;
    }
    if (how == SILENT) {
        pause();
        _exit(0);
    }
    if (how == REFUSE)
        v.rv = (uint32_t)SCARD_E_SERVICE_STOPPED;
    fill_states(st);
    if (write(c, &v, sizeof v) != (ssize_t)sizeof v ||
        write(c, st, how == CUT ? PCSCD_STATES_SIZE / 2 : PCSCD_STATES_SIZE) < 0)
        _exit(1);
    _exit(0);
}

static void reap(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static void test_readers_from_one_answer(void)
{
    struct pcsc_reader r[PCSC_MAX_READERS];
    size_t n = 0;
    pid_t pid = serve(GOOD);

    EXPECT(pid > 0);
    EXPECT_EQ(pcscd_wire_readers(r, PCSC_MAX_READERS, &n, 2000), ESC_OK);
    reap(pid);
    EXPECT_EQ(n, 3u); /* A, B, C; the empty slots and the name without NUL are left out */
    EXPECT_STR(r[0].name, "Reader A 00 00");
    EXPECT(r[0].card_present && !r[0].card_mute);
    EXPECT_EQ(r[0].event_count, 5u);
    EXPECT_EQ(r[0].atr_len, 8u);
    EXPECT_EQ(r[0].atr[0], 0x3B);
    EXPECT_STR(r[1].name, "Reader B 00 00");
    EXPECT(!r[1].card_present);
    EXPECT_STR(r[2].name, "Reader C 00 00");
    EXPECT_EQ(r[2].atr_len, 0u);
}

/* The stand-in answers as `how` says; the call must fail with `want` and give no reader. */
static void fails_with(enum how how, esc_err want)
{
    struct pcsc_reader r[PCSC_MAX_READERS];
    size_t n = 7;
    pid_t pid = serve(how);

    EXPECT(pid > 0);
    EXPECT_EQ(pcscd_wire_readers(r, PCSC_MAX_READERS, &n, 2000), want);
    reap(pid);
    EXPECT_EQ(n, 0u);
}

static void test_refused_version(void)
{
    fails_with(REFUSE, ESC_ERR_NOT_SUPPORTED);
}

static void test_cut_short(void)
{
    fails_with(CUT, ESC_ERR_PROTOCOL);
}

static void test_silent_pcscd_is_bounded(void)
{
    struct pcsc_reader r[PCSC_MAX_READERS];
    size_t n;
    pid_t pid = serve(SILENT);

    EXPECT(pid > 0);
    EXPECT_EQ(pcscd_wire_readers(r, PCSC_MAX_READERS, &n, 200), ESC_ERR_TIMEOUT);
    reap(pid);
}

static void test_no_pcscd(void)
{
    struct pcsc_reader r[PCSC_MAX_READERS];
    size_t n;

    unlink(sock);
    EXPECT_EQ(pcscd_wire_readers(r, PCSC_MAX_READERS, &n, 200), ESC_ERR_NO_PCSCD);
}

static void test_parse_wrong_length(void)
{
    static struct pcscd_reader_state st[PCSCD_READER_SLOTS];
    struct pcsc_reader r[PCSC_MAX_READERS];
    size_t n;

    fill_states(st);
    EXPECT_EQ(pcscd_wire_parse(st, PCSCD_STATES_SIZE - 1, r, PCSC_MAX_READERS, &n),
              ESC_ERR_PROTOCOL);
    EXPECT_EQ(pcscd_wire_parse(st, PCSCD_STATES_SIZE, r, 1, &n), ESC_OK);
    EXPECT_EQ(n, 1u); /* no more than the caller has room for */
}

static bool known_a(void *arg, const struct pcsc_reader *r, struct probe_facts *out)
{
    int *calls = arg;

    (*calls)++;
    if (strcmp(r->name, "Reader A 00 00") != 0 || r->event_count != 5)
        return false;
    out->state = PROBE_ENROLLED;
    out->pin_tries_left = 5;
    return true;
}

static void test_remembered_card_needs_no_context(void)
{
    struct probe_opts o = {.timeout_ms = 2000, .known = known_a, .reader = "Reader A 00 00"};
    struct probe_facts f;
    int calls = 0;
    pid_t pid = serve(GOOD);

    EXPECT(pid > 0);
    o.known_arg = &calls;
    probe_card(&o, &f);
    reap(pid);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(f.state, PROBE_ENROLLED);
    EXPECT(f.from_cache);
    EXPECT_STR(f.reader, "Reader A 00 00");
    EXPECT_EQ(f.atr_len, 8u);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(sock, sizeof sock, "%s/pcscd.comm", dir);
    setenv("PCSCLITE_CSOCK_NAME", sock, 1);
    RUN(test_readers_from_one_answer);
    RUN(test_refused_version);
    RUN(test_cut_short);
    RUN(test_silent_pcscd_is_bounded);
    RUN(test_no_pcscd);
    RUN(test_parse_wrong_length);
    RUN(test_remembered_card_needs_no_context);
    unlink(sock);
    rmdir(dir);
    return check_status();
}
