/* test_ipc: the hand-off protocol codec and its socket I/O (common/ipc.h). */
#include "check.h"
#include "ipc.h"
#include "ipc_card.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t enc(const struct ipc_msg *m, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    return ipc_encode(m, buf, cap, &len) == ESC_OK ? len : 0;
}

static void roundtrip_every_type(void)
{
    uint8_t buf[IPC_HEADER_LEN + IPC_PAYLOAD_MAX];
    struct ipc_msg m, d;
    size_t len;

    ipc_msg_init(&m, IPC_DONE);
    EXPECT_EQ(ipc_set_num(&m, IPC_F_OK, 1), ESC_OK);
    EXPECT_EQ(ipc_set_num(&m, IPC_F_CODE, ESC_OK), ESC_OK);
    EXPECT_EQ(ipc_set_str(&m, IPC_F_TEXT, "Your smart card is ready."), ESC_OK);
    EXPECT_EQ(ipc_set_str(&m, IPC_F_SECRET, "246810"), ESC_OK);
    EXPECT_EQ(ipc_set_str(&m, IPC_F_USER, "jsmith"), ESC_OK);
    len = enc(&m, buf, sizeof buf);
    EXPECT(len > IPC_HEADER_LEN);
    EXPECT_EQ(ipc_decode(buf, len, &d), ESC_OK);
    EXPECT_EQ(d.type, IPC_DONE);
    EXPECT(d.ok);
    EXPECT_STR(d.secret, "246810");
    EXPECT_STR(d.user, "jsmith");
    EXPECT_STR(d.text, "Your smart card is ready.");

    ipc_msg_init(&m, IPC_PROGRESS);
    ipc_set_num(&m, IPC_F_PCT, 40);
    ipc_set_str(&m, IPC_F_TEXT, "generating keys");
    len = enc(&m, buf, sizeof buf);
    EXPECT_EQ(ipc_decode(buf, len, &d), ESC_OK);
    EXPECT_EQ(d.pct, 40);
    EXPECT_STR(d.text, "generating keys");

    ipc_msg_init(&m, IPC_REQUEST);
    ipc_set_str(&m, IPC_F_ID, "enroll");
    ipc_set_num(&m, IPC_F_TIMEOUT, 120000);
    ipc_set_num(&m, IPC_F_FLAGS, IPC_FLAG_SILENT);
    ipc_set_str(&m, IPC_F_READER, "Virtual PCD 00 00");
    len = enc(&m, buf, sizeof buf);
    EXPECT_EQ(ipc_decode(buf, len, &d), ESC_OK);
    EXPECT_EQ(d.timeout_ms, 120000u);
    EXPECT_EQ(d.flags, IPC_FLAG_SILENT);
    EXPECT(!ipc_has(&d, IPC_F_USER));
    EXPECT_STR(d.reader, "Virtual PCD 00 00");
}

static void encoder_refuses_bad_messages(void)
{
    uint8_t buf[IPC_HEADER_LEN + IPC_PAYLOAD_MAX];
    struct ipc_msg m;
    size_t len;

    ipc_msg_init(&m, IPC_INFO); /* TEXT required */
    EXPECT_EQ(ipc_encode(&m, buf, sizeof buf, &len), ESC_ERR_ARG);
    ipc_msg_init(&m, IPC_INFO); /* a secret in an INFO */
    ipc_set_str(&m, IPC_F_TEXT, "x");
    ipc_set_str(&m, IPC_F_SECRET, "1234");
    EXPECT_EQ(ipc_encode(&m, buf, sizeof buf, &len), ESC_ERR_ARG);
    ipc_msg_init(&m, IPC_PROGRESS);
    EXPECT_EQ(ipc_set_num(&m, IPC_F_PCT, 101), ESC_ERR_ARG);
    EXPECT_EQ(ipc_set_num(&m, IPC_F_CODE, ESC_ERR__COUNT), ESC_ERR_ARG);
    ipc_msg_init(&m, IPC_INFO); /* output buffer too small */
    ipc_set_str(&m, IPC_F_TEXT, "hello");
    EXPECT_EQ(ipc_encode(&m, buf, 6, &len), ESC_ERR_ARG);
}

static void display_text_is_cleaned_and_capped(void)
{
    char big[IPC_TEXT_MAX + 50];
    struct ipc_msg m;

    ipc_msg_init(&m, IPC_INFO);
    EXPECT_EQ(ipc_set_str(&m, IPC_F_TEXT, "a\033[2Jb\nc"), ESC_OK);
    EXPECT_STR(m.text, "a [2Jb c");
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    EXPECT_EQ(ipc_set_str(&m, IPC_F_TEXT, big), ESC_ERR_TOO_BIG);
    EXPECT_EQ(strlen(m.text), (size_t)IPC_TEXT_MAX);
}

/* Build a frame by hand: header + raw payload. */
static size_t frame(uint8_t *buf, uint8_t type, const uint8_t *payload, size_t plen)
{
    buf[0] = type;
    buf[1] = IPC_VERSION;
    buf[2] = (uint8_t)(plen >> 8);
    buf[3] = (uint8_t)plen;
    memcpy(buf + 4, payload, plen);
    return 4 + plen;
}

static void decoder_rejects_hostile_frames(void)
{
    uint8_t buf[4096];
    struct ipc_msg d;
    size_t n;
    const uint8_t info_ok[] = {IPC_F_TEXT, 0, 2, 'h', 'i'};
    const uint8_t info_nul[] = {IPC_F_TEXT, 0, 2, 'h', 0};
    const uint8_t info_ctl[] = {IPC_F_TEXT, 0, 2, 'h', 0x1b};
    const uint8_t info_twice[] = {IPC_F_TEXT, 0, 1, 'h', IPC_F_TEXT, 0, 1, 'i'};
    const uint8_t info_secret[] = {IPC_F_TEXT, 0, 1, 'h', IPC_F_SECRET, 0, 1, '1'};
    const uint8_t info_overrun[] = {IPC_F_TEXT, 0, 9, 'h', 'i'};
    const uint8_t info_trunc_tag[] = {IPC_F_TEXT, 0, 1, 'h', IPC_F_TEXT, 0};
    const uint8_t info_unknown[] = {IPC_F_TEXT, 0, 1, 'h', 99, 0, 0};
    const uint8_t prog_101[] = {IPC_F_PCT, 0, 1, 101};
    const uint8_t prog_wide[] = {IPC_F_PCT, 0, 2, 0, 50};
    const uint8_t done_badcode[] = {IPC_F_OK, 0, 1, 0, IPC_F_CODE, 0, 2, 0xff, 0xff};
    const uint8_t done_nocode[] = {IPC_F_OK, 0, 1, 0};
    const uint8_t answer_ok2[] = {IPC_F_OK, 0, 1, 2};

    n = frame(buf, IPC_INFO, info_ok, sizeof info_ok);
    EXPECT_EQ(ipc_decode(buf, n, &d), ESC_OK);
    EXPECT_STR(d.text, "hi");
    EXPECT_EQ(ipc_decode(buf, n - 1, &d), ESC_ERR_PROTOCOL); /* short */
    buf[1] = 2;                                              /* version */
    EXPECT_EQ(ipc_decode(buf, n, &d), ESC_ERR_PROTOCOL);
    n = frame(buf, 0, info_ok, sizeof info_ok); /* type 0 */
    EXPECT_EQ(ipc_decode(buf, n, &d), ESC_ERR_PROTOCOL);
    n = frame(buf, IPC_TYPE__END, info_ok, sizeof info_ok);
    EXPECT_EQ(ipc_decode(buf, n, &d), ESC_ERR_PROTOCOL);
#define BAD(type, p)                                                                               \
    n = frame(buf, type, p, sizeof p);                                                             \
    EXPECT_EQ(ipc_decode(buf, n, &d), ESC_ERR_PROTOCOL)
    BAD(IPC_INFO, info_nul);
    BAD(IPC_INFO, info_ctl);
    BAD(IPC_INFO, info_twice);
    BAD(IPC_INFO, info_secret);
    BAD(IPC_INFO, info_overrun);
    BAD(IPC_INFO, info_trunc_tag);
    BAD(IPC_INFO, info_unknown);
    BAD(IPC_PROGRESS, prog_101);
    BAD(IPC_PROGRESS, prog_wide);
    BAD(IPC_DONE, done_badcode);
    BAD(IPC_DONE, done_nocode);
    BAD(IPC_ANSWER, answer_ok2);
#undef BAD
    /* a frame over the type's cap is refused from its header alone */
    uint8_t hdr[4] = {IPC_ANSWER, IPC_VERSION, 0x01, 0x2d}; /* 301 > 300 */
    size_t fl;
    EXPECT_EQ(ipc_frame_len(hdr, &fl), ESC_ERR_PROTOCOL);
    hdr[3] = 0x2c;
    EXPECT_EQ(ipc_frame_len(hdr, &fl), ESC_OK);
    EXPECT_EQ(fl, (size_t)304);
}

static void send_recv_over_socketpair(void)
{
    int sv[2];
    struct ipc_msg m, d;

    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ipc_msg_init(&m, IPC_PROMPT_ECHO_OFF);
    ipc_set_str(&m, IPC_F_TEXT, "LDAP Password");
    ipc_set_str(&m, IPC_F_ID, "PASSWORD");
    EXPECT_EQ(ipc_send(sv[0], &m, ipc_now_ms() + 1000), ESC_OK);
    EXPECT_EQ(ipc_recv(sv[1], &d, ipc_now_ms() + 1000), ESC_OK);
    EXPECT_EQ(d.type, IPC_PROMPT_ECHO_OFF);
    EXPECT_STR(d.text, "LDAP Password");
    EXPECT_STR(d.id, "PASSWORD");
    /* nothing more: the deadline ends the wait */
    long t0 = ipc_now_ms();
    EXPECT_EQ(ipc_recv(sv[1], &d, t0 + 100), ESC_ERR_TIMEOUT);
    EXPECT(ipc_now_ms() - t0 >= 90 && ipc_now_ms() - t0 < 1000);
    /* garbage */
    EXPECT_EQ(write(sv[0], "\x07\x01\x00\x00", 4), 4); /* ANSWER without OK */
    EXPECT_EQ(ipc_recv(sv[1], &d, ipc_now_ms() + 1000), ESC_ERR_PROTOCOL);
    /* peer gone: EOF is ESC_ERR_IO, sending gives ESC_ERR_IO and no SIGPIPE */
    close(sv[0]);
    EXPECT_EQ(ipc_recv(sv[1], &d, ipc_now_ms() + 1000), ESC_ERR_IO);
    EXPECT_EQ(ipc_send(sv[1], &m, ipc_now_ms() + 1000), ESC_ERR_IO);
    close(sv[1]);
}

static void half_frame_then_stall_times_out(void)
{
    int sv[2];
    struct ipc_msg d;

    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    EXPECT_EQ(write(sv[0], "\x04\x01\x00\x10\x01", 5), 5);
    long t0 = ipc_now_ms();
    EXPECT_EQ(ipc_recv(sv[1], &d, t0 + 150), ESC_ERR_TIMEOUT);
    EXPECT(ipc_now_ms() - t0 < 1000);
    close(sv[0]);
    close(sv[1]);
}

static void session_socket_checks_dir_and_peer(void)
{
    char dir[] = "/tmp/test_ipc.XXXXXX", sub[300];
    int l = -1, c = -1;
    uid_t peer;

    EXPECT(mkdtemp(dir) != NULL);
    EXPECT_EQ(ipc_session_connect(dir, geteuid(), ipc_now_ms() + 200, &c),
              ESC_ERR_AGENT_UNAVAILABLE);
    EXPECT_EQ(ipc_session_listen(dir, &l), ESC_OK);
    EXPECT_EQ(ipc_session_connect(dir, geteuid(), ipc_now_ms() + 200, &c), ESC_OK);
    EXPECT_EQ(ipc_peer_uid(c, &peer), ESC_OK);
    EXPECT_EQ(peer, geteuid());
    EXPECT(fcntl(c, F_GETFD) & FD_CLOEXEC);
    close(c);
    /* someone else's agent: refused on SO_PEERCRED / ownership */
    EXPECT_EQ(ipc_session_connect(dir, geteuid() + 1, ipc_now_ms() + 200, &c), ESC_ERR_PROTOCOL);
    /* a directory others can enter: refused */
    snprintf(sub, sizeof sub, "%s/%s", dir, IPC_SESSION_DIR);
    EXPECT_EQ(chmod(sub, 0755), 0);
    EXPECT_EQ(ipc_session_connect(dir, geteuid(), ipc_now_ms() + 200, &c), ESC_ERR_PROTOCOL);
    close(l);
    snprintf(sub, sizeof sub, "%s/%s/%s", dir, IPC_SESSION_DIR, IPC_SESSION_SOCK);
    unlink(sub);
    snprintf(sub, sizeof sub, "%s/%s", dir, IPC_SESSION_DIR);
    rmdir(sub);
    rmdir(dir);
}

static void session_dir_symlink_refused(void)
{
    char dir[] = "/tmp/test_ipc_link.XXXXXX", other[] = "/tmp/test_ipc_other.XXXXXX", link[300];
    int l = -1, c = -1;

    EXPECT(mkdtemp(dir) != NULL);
    EXPECT(mkdtemp(other) != NULL);
    EXPECT_EQ(chmod(other, 0755), 0);
    snprintf(link, sizeof link, "%s/%s", dir, IPC_SESSION_DIR);
    EXPECT_EQ(symlink(other, link), 0);
    EXPECT(ipc_session_listen(dir, &l) != ESC_OK); /* no fchmod through the link */
    EXPECT(ipc_session_connect(dir, geteuid(), ipc_now_ms() + 200, &c) != ESC_OK);
    struct stat st;
    EXPECT_EQ(stat(other, &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0755u);
    unlink(link);
    rmdir(other);
    rmdir(dir);
}

static void wipe_clears_secret(void)
{
    struct ipc_msg m;
    ipc_msg_init(&m, IPC_ANSWER);
    ipc_set_str(&m, IPC_F_SECRET, "s3cret");
    ipc_msg_wipe(&m);
    EXPECT_EQ(m.secret[0], 0);
    EXPECT_EQ(m.present, 0u);
}

/* escctl status through the agent: the facts survive the trip, unknowns stay unknown */
static void card_facts_roundtrip(void)
{
    uint8_t buf[IPC_HEADER_LEN + IPC_PAYLOAD_MAX];
    struct probe_facts f, g;
    struct ipc_msg m, d;
    size_t len;

    memset(&f, 0, sizeof f);
    f.state = PROBE_ENROLLED;
    f.err = ESC_OK;
    snprintf(f.reader, sizeof f.reader, "Rig Virtual PCD 00 00");
    f.atr_len = PCSC_ATR_MAX;
    memset(f.atr, 0x3B, sizeof f.atr);
    f.atr[1] = 0x00; /* a NUL byte in the ATR travels as hex */
    f.have_cuid = true;
    snprintf(f.cuid_hex, sizeof f.cuid_hex, "4090A0B1C2D3E4F50617");
    snprintf(f.applet_version, sizeof f.applet_version, "1.4.58768072");
    f.life_cycle = 0x0F;
    f.pin_tries_left = 0;
    snprintf(f.phone_home_url, sizeof f.phone_home_url,
             "http://127.0.0.1:1/cgi-bin/home/index.cgi");
    f.ncerts = 2;
    f.not_after = 253402300799LL; /* 9999-12-31: past 32 bits */
    snprintf(f.subject, sizeof f.subject, "CN=jsmith,O=Example");
    snprintf(f.issuer, sizeof f.issuer, "CN=Test CA");
    f.elapsed_ms = 42;
    ipc_card_from_facts(&f, &m);
    len = enc(&m, buf, sizeof buf);
    EXPECT(len > IPC_HEADER_LEN);
    EXPECT_EQ(ipc_decode(buf, len, &d), ESC_OK);
    EXPECT_EQ(ipc_card_to_facts(&d, &g), ESC_OK);
    EXPECT_EQ(g.state, PROBE_ENROLLED);
    EXPECT_STR(g.reader, f.reader);
    EXPECT_EQ(g.atr_len, (size_t)PCSC_ATR_MAX);
    EXPECT(memcmp(g.atr, f.atr, PCSC_ATR_MAX) == 0);
    EXPECT(g.have_cuid);
    EXPECT_STR(g.cuid_hex, f.cuid_hex);
    EXPECT_EQ(g.cuid[0], 0x40);
    EXPECT_STR(g.applet_version, f.applet_version);
    EXPECT_EQ(g.life_cycle, 0x0F);
    EXPECT_EQ(g.pin_tries_left, 0);
    EXPECT_STR(g.phone_home_url, f.phone_home_url);
    EXPECT_EQ(g.ncerts, (size_t)2);
    EXPECT(g.not_after == 253402300799LL);
    EXPECT_STR(g.subject, f.subject);
    EXPECT_STR(g.issuer, f.issuer);
    EXPECT_EQ(g.elapsed_ms, 42u);

    /* no card: unknown facts stay unknown (-1, no CUID), the error code travels */
    memset(&f, 0, sizeof f);
    f.state = PROBE_NO_CARD;
    f.err = ESC_ERR_NO_CARD;
    f.life_cycle = f.pin_tries_left = -1;
    snprintf(f.reader, sizeof f.reader, "Rig Virtual PCD 00 01");
    ipc_card_from_facts(&f, &m);
    len = enc(&m, buf, sizeof buf);
    EXPECT_EQ(ipc_decode(buf, len, &d), ESC_OK);
    EXPECT_EQ(ipc_card_to_facts(&d, &g), ESC_OK);
    EXPECT_EQ(g.state, PROBE_NO_CARD);
    EXPECT_EQ(g.err, ESC_ERR_NO_CARD);
    EXPECT(!g.have_cuid);
    EXPECT_EQ(g.life_cycle, -1);
    EXPECT_EQ(g.pin_tries_left, -1);
    EXPECT_EQ(g.atr_len, (size_t)0);

    /* what no probe gives is refused */
    d.state = PROBE_ERROR + 1;
    EXPECT_EQ(ipc_card_to_facts(&d, &g), ESC_ERR_PROTOCOL);
    d.state = PROBE_NO_CARD;
    ipc_set_str(&d, IPC_F_ATR, "3B0");
    EXPECT_EQ(ipc_card_to_facts(&d, &g), ESC_ERR_PROTOCOL);
    ipc_set_str(&d, IPC_F_ATR, "3BZZ");
    EXPECT_EQ(ipc_card_to_facts(&d, &g), ESC_ERR_PROTOCOL);
    ipc_set_str(&d, IPC_F_ATR, "3B00");
    ipc_set_str(&d, IPC_F_CUID, "4090");
    EXPECT_EQ(ipc_card_to_facts(&d, &g), ESC_ERR_PROTOCOL);
    /* a CARD field on another type, and NOT_AFTER only through ipc_set_time */
    ipc_msg_init(&m, IPC_DONE);
    ipc_set_num(&m, IPC_F_OK, 1);
    ipc_set_num(&m, IPC_F_CODE, 0);
    ipc_set_num(&m, IPC_F_STATE, 1);
    EXPECT_EQ(enc(&m, buf, sizeof buf), (size_t)0);
    EXPECT_EQ(ipc_set_num(&m, IPC_F_NOT_AFTER, 1), ESC_ERR_ARG);
    EXPECT_EQ(ipc_set_time(&m, IPC_F_CODE, 1), ESC_ERR_ARG);
    EXPECT_EQ(ipc_set_num(&m, IPC_F_STATE, 256), ESC_ERR_ARG);
}

int main(void)
{
    RUN(roundtrip_every_type);
    RUN(encoder_refuses_bad_messages);
    RUN(display_text_is_cleaned_and_capped);
    RUN(decoder_rejects_hostile_frames);
    RUN(send_recv_over_socketpair);
    RUN(half_frame_then_stall_times_out);
    RUN(session_socket_checks_dir_and_peer);
    RUN(session_dir_symlink_refused);
    RUN(wipe_clears_secret);
    RUN(card_facts_roundtrip);
    return check_status();
}
