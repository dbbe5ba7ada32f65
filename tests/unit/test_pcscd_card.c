/* test_pcscd_card: a card session in pcscd's own protocol (common/pcscd_card.h), against
 * pcscd's side of the conversation written in advance on a socket pair: what we send (each
 * request in pcsc-lite's layout, several in one write where no answer is needed in between, the
 * card always left as it is at the end, never reset), and what we refuse to believe (a response
 * longer than asked for, a refused version, silence). The real pcscd is spoken to by every
 * integration test that probes a card (pam_probe, pam_cache, escctl_status, ...). */
#include "check.h"
#include "clock.h"
#include "pcscd_card.h"
#include "pcscd_wire.h"

#include <PCSC/pcsclite.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned char peer[8192]; /* pcscd's answers, in order */
static size_t plen;

static void add(const void *p, size_t n)
{
    memcpy(peer + plen, p, n);
    plen += n;
}
static void add_u32(uint32_t v)
{
    add(&v, 4);
}

static void add_open(uint32_t version_rv)
{
    struct pcscd_reader_state st[PCSCD_READER_SLOTS];
    struct pcscd_version v = {PCSCD_PROTO_MAJOR, PCSCD_PROTO_MINOR, version_rv};
    struct pcscd_establish es = {SCARD_SCOPE_SYSTEM, 77, 0};

    memset(st, 0, sizeof st);
    snprintf(st[0].name, sizeof st[0].name, "Reader 00 00");
    st[0].state = SCARD_PRESENT | SCARD_POWERED;
    st[0].event_counter = 5;
    st[0].sharing = 1;
    add(&v, sizeof v);
    if (version_rv)
        return;
    add(&es, sizeof es);
    add(st, sizeof st);
}

static void add_connect(int32_t card)
{
    struct pcscd_connect c = {
        .context = 77, .share = SCARD_SHARE_SHARED, .card = card, .active = SCARD_PROTOCOL_T1};
    add(&c, sizeof c);
}

static void add_transmit(uint32_t rv, uint32_t len, const void *data)
{
    struct pcscd_transmit t = {.card = 9, .recv_len = len, .rv = rv};
    add(&t, sizeof t);
    if (rv == 0 && data)
        add(data, len);
}

/* Start a session on a socket pair whose other end has said `peer` and is shut; *other gets
 * that end (what we sent is read from it). */
static struct pcsc_reader readers[PCSC_MAX_READERS];
static size_t nreaders;

static esc_err open_on(pcscd_card **s, int *other, unsigned ms, bool shut)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return ESC_ERR_IO;
    if (plen && write(sv[1], peer, plen) != (ssize_t)plen)
        return ESC_ERR_IO;
    if (shut)
        shutdown(sv[1], SHUT_WR);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    *other = sv[1];
    nreaders = 0;
    return pcscd_card_open_fd(s, sv[0], esc_mono_ms() + ms, readers, PCSC_MAX_READERS, &nreaders);
}

/* The commands we sent, in order, and the disposition of each END or DISCONNECT. */
static size_t sent(int fd, uint32_t *cmd, uint32_t *disp, size_t max)
{
    static unsigned char buf[8192];
    size_t len = 0, at = 0, n = 0;
    ssize_t k;

    fcntl(fd, F_SETFL, O_NONBLOCK);
    while ((k = read(fd, buf + len, sizeof buf - len)) > 0)
        len += (size_t)k;
    while (at + 8 <= len && n < max) {
        struct pcscd_header h;
        memcpy(&h, buf + at, sizeof h);
        cmd[n] = h.command;
        disp[n] = 0xFFFF;
        if (h.command == PCSCD_CMD_END_TRANSACTION || h.command == PCSCD_CMD_DISCONNECT)
            memcpy(&disp[n], buf + at + 8 + 4, 4);
        at += 8 + h.size;
        if (h.command == PCSCD_CMD_TRANSMIT) {
            struct pcscd_transmit t;
            memcpy(&t, buf + at - h.size, sizeof t);
            at += t.send_len;
        }
        n++;
    }
    return n;
}

/* SELECT and GET PIN TRIES in one write with the transaction around them and the disconnect
 * after: one round trip; the card is left as it is; closing sends nothing more. */
static void test_batch_one_write_leaves_card(void)
{
    static const uint8_t sel[] = {0x00, 0xA4, 0x04, 0x00, 0x01, 0x62};
    static const uint8_t get[] = {0xB0, 0x4A, 0x00, 0x00, 0x01};
    static const uint8_t ok[] = {0x90, 0x00}, tries[] = {0x03, 0x90, 0x00};
    uint8_t resp[2][PCSC_RESP_MAX];
    size_t rlen[2];
    uint32_t cmd[16], disp[16];
    pcscd_card *s = NULL;
    int other;

    plen = 0;
    add_open(0);
    add_connect(9);
    add_u32(9), add_u32(0); /* BEGIN */
    add_transmit(0, sizeof ok, ok);
    add_transmit(0, sizeof tries, tries);
    add_u32(9), add_u32(0), add_u32(0); /* END */
    add_u32(9), add_u32(0), add_u32(0); /* DISCONNECT */
    EXPECT_EQ(open_on(&s, &other, 2000, true), ESC_OK);
    EXPECT_EQ(nreaders, 1); /* the readers came with the context */
    EXPECT_STR(readers[0].name, "Reader 00 00");
    EXPECT(readers[0].in_use && !readers[0].exclusive);
    EXPECT_EQ(pcscd_card_connect(s, "Reader 00 00", false), ESC_OK);
    EXPECT_EQ(pcscd_card_batch(s, 2, (const uint8_t *const[]){sel, get},
                               (const size_t[]){sizeof sel, sizeof get}, resp, rlen),
              ESC_OK);
    EXPECT_EQ(rlen[1], 3);
    EXPECT_EQ(resp[1][0], 3);
    pcscd_card_close(s);
    size_t n = sent(other, cmd, disp, 16);
    static const uint32_t want[] = {
        PCSCD_CMD_VERSION,  PCSCD_CMD_ESTABLISH_CONTEXT, PCSCD_CMD_GET_READERS_STATE,
        PCSCD_CMD_CONNECT,  PCSCD_CMD_BEGIN_TRANSACTION, PCSCD_CMD_TRANSMIT,
        PCSCD_CMD_TRANSMIT, PCSCD_CMD_END_TRANSACTION,   PCSCD_CMD_DISCONNECT};
    EXPECT_EQ(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n && i < sizeof want / sizeof want[0]; i++)
        EXPECT_EQ(cmd[i], want[i]);
    EXPECT_EQ(disp[7], SCARD_LEAVE_CARD);
    EXPECT_EQ(disp[8], SCARD_LEAVE_CARD);
    close(other);
}

/* A session closed with the card still connected disconnects it, leaving it: pcscd would
 * reset it for a client that just goes away (logging out a PIN another program verified). */
static void test_close_leaves_card(void)
{
    uint32_t cmd[16], disp[16];
    pcscd_card *s = NULL;
    int other;

    plen = 0;
    add_open(0);
    add_connect(9);
    add_u32(9), add_u32(0), add_u32(0); /* DISCONNECT */
    EXPECT_EQ(open_on(&s, &other, 2000, true), ESC_OK);
    EXPECT_EQ(pcscd_card_connect(s, "Reader 00 00", false), ESC_OK);
    pcscd_card_close(s);
    size_t n = sent(other, cmd, disp, 16);
    EXPECT_EQ(n, 5);
    EXPECT_EQ(cmd[4], PCSCD_CMD_DISCONNECT);
    EXPECT_EQ(disp[4], SCARD_LEAVE_CARD);
    close(other);
}

/* A response longer than the buffer we announced is a protocol error, not a copy. */
static void test_long_answer_refused(void)
{
    static const uint8_t get[] = {0xB0, 0x4A, 0x00, 0x00, 0x01};
    uint8_t small[4];
    size_t len = 99;
    pcscd_card *s = NULL;
    int other;

    plen = 0;
    add_open(0);
    add_connect(9);
    add_transmit(0, 200, NULL);
    EXPECT_EQ(open_on(&s, &other, 2000, true), ESC_OK);
    EXPECT_EQ(pcscd_card_connect(s, "Reader 00 00", false), ESC_OK);
    EXPECT_EQ(pcscd_card_transmit(s, get, sizeof get, small, sizeof small, &len), ESC_ERR_PROTOCOL);
    EXPECT_EQ(len, 0);
    pcscd_card_close(s);
    close(other);
}

/* The answer to a TRANSMIT with nothing else due is received at once when it is all there:
 * the response is the card's, byte for byte; a byte past what pcscd announced (or after a
 * refusal) is a protocol error; an answer cut after its header is a broken stream. */
static void test_lone_transmit_answer(void)
{
    static const uint8_t get[] = {0xB0, 0x4A, 0x00, 0x00, 0x01};
    static const uint8_t ok[] = {0x03, 0x90, 0x00}, extra[] = {0x90, 0x00, 0x42};
    uint8_t buf[8];
    size_t len;
    pcscd_card *s = NULL;
    int other;

    for (int c = 0; c < 4; c++) {
        plen = 0;
        add_open(0);
        add_connect(9);
        if (c == 0) {
            add_transmit(0, sizeof ok, ok);
        } else if (c == 1) { /* two bytes announced, three sent */
            add_transmit(0, 2, NULL);
            add(extra, sizeof extra);
        } else if (c == 2) { /* a refusal with a response after it */
            add_transmit(SCARD_E_NOT_TRANSACTED, 0, NULL);
            add(extra, 2);
        } else { /* the header, then the end of the stream */
            add_transmit(0, 2, NULL);
        }
        EXPECT_EQ(open_on(&s, &other, 2000, true), ESC_OK);
        EXPECT_EQ(pcscd_card_connect(s, "Reader 00 00", false), ESC_OK);
        len = 99;
        esc_err e = pcscd_card_transmit(s, get, sizeof get, buf, sizeof buf, &len);
        if (c == 0) {
            EXPECT_EQ(e, ESC_OK);
            EXPECT_EQ(len, sizeof ok);
            EXPECT_MEM(buf, ok, sizeof ok);
        } else {
            EXPECT_EQ(e, c == 3 ? ESC_ERR_PCSC : ESC_ERR_PROTOCOL);
            EXPECT_EQ(len, 0);
        }
        pcscd_card_close(s);
        close(other);
    }
}

/* A transaction pcscd refused: the batch says why, and the stream stays in step (the
 * readers asked after it are read right). */
static void test_refused_begin_in_step(void)
{
    static const uint8_t get[] = {0xB0, 0x4A, 0x00, 0x00, 0x01};
    static const uint8_t tries[] = {0x03, 0x90, 0x00};
    struct pcscd_reader_state st[PCSCD_READER_SLOTS];
    struct pcsc_reader r[PCSC_MAX_READERS];
    uint8_t resp[1][PCSC_RESP_MAX];
    size_t rlen[1], n = 0;
    pcscd_card *s = NULL;
    int other;

    plen = 0;
    add_open(0);
    add_connect(9);
    add_u32(9), add_u32((uint32_t)SCARD_W_REMOVED_CARD); /* BEGIN */
    add_transmit(0, sizeof tries, tries);
    add_u32(9), add_u32(0), add_u32(0);
    add_u32(9), add_u32(0), add_u32(0);
    memset(st, 0, sizeof st);
    snprintf(st[0].name, sizeof st[0].name, "Reader 00 00");
    st[0].state = SCARD_ABSENT;
    add(st, sizeof st);
    EXPECT_EQ(open_on(&s, &other, 2000, true), ESC_OK);
    EXPECT_EQ(pcscd_card_connect(s, "Reader 00 00", false), ESC_OK);
    EXPECT_EQ(pcscd_card_batch(s, 1, (const uint8_t *const[]){get}, (const size_t[]){sizeof get},
                               resp, rlen),
              ESC_ERR_CARD_REMOVED);
    EXPECT_EQ(pcscd_card_readers(s, r, PCSC_MAX_READERS, &n), ESC_OK);
    EXPECT_EQ(n, 1);
    EXPECT(!r[0].card_present);
    pcscd_card_close(s);
    close(other);
}

/* pcscd speaking another protocol: said so, for libpcsclite to take over (pcsc_open). */
static void test_refused_version(void)
{
    pcscd_card *s = NULL;
    int other;

    plen = 0;
    add_open((uint32_t)SCARD_E_SERVICE_STOPPED);
    EXPECT_EQ(open_on(&s, &other, 2000, true), ESC_ERR_NOT_SUPPORTED);
    EXPECT(s == NULL);
    close(other);
}

/* A pcscd that took the connection and says nothing: wedged, within the deadline. */
static void test_silent_pcscd(void)
{
    pcscd_card *s = NULL;
    uint64_t t0 = esc_mono_ms();
    int other;

    plen = 0;
    EXPECT_EQ(open_on(&s, &other, 150, false), ESC_ERR_PCSCD_HUNG);
    EXPECT(esc_mono_ms() - t0 >= 140 && esc_mono_ms() - t0 < 2000);
    close(other);
}

int main(void)
{
    RUN(test_batch_one_write_leaves_card);
    RUN(test_close_leaves_card);
    RUN(test_long_answer_refused);
    RUN(test_lone_transmit_answer);
    RUN(test_refused_begin_in_step);
    RUN(test_refused_version);
    RUN(test_silent_pcscd);
    return check_status();
}
