/* test_tps_ops: the reference TPS's operations end to end against the virtual card in-process:
 * the server side (tpsd_server_handle) runs in a thread on one end of a socketpair, the test
 * client (tpsd_client_run) on the other relays every APDU to vc_card_apdu. No pcscd, no LDAP
 * (token type noAuth). Shows: a blank card is formatted then enrolled (SCP02 and SCP01), the
 * card ends personalized (life cycle 0F) with a z0 holding two certificates from the test CA,
 * PIN 0 set to the new PIN; PIN reset, renew and format keep the token database right. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "testca.h"
#include "tpsd_client.h"
#include "tpsd_db.h"
#include "tpsd_server.h"
#include "tpsd_z0read.h"
#include "vc_card.h"

static char dir[] = "/tmp/test_tps_ops.XXXXXX";
static struct tpsd_config cfg;
static struct tpsd_ctx ctx;
static struct tpsd_server srv;
/* One card per test family, never freed: reachable from here, so no leak report. */
static struct vc_card cards[2];
static struct vc_card *card_p = &cards[0];

struct server_arg {
    int fd;
};

static void *server_thread(void *p)
{
    struct server_arg *a = p;
    tpsd_server_handle(&srv, a->fd, 0);
    return NULL;
}

static int card_fn(void *c, const uint8_t *apdu, size_t len, uint8_t *resp, size_t *rlen)
{
    uint8_t r[VC_RESP_MAX];
    size_t n = vc_card_apdu(c, apdu, len, r);
    if (n < 2 || n > 258)
        return -1;
    memcpy(resp, r, n);
    *rlen = n;
    return 0;
}

/* One operation over a fresh connection, as a client would run it. */
static int run_op(int op, const char *pin, struct tpsd_client_result *r)
{
    int sv[2];
    pthread_t th;
    struct server_arg a;
    struct tpsd_client_opts o = {.op = op,
                                 .type = "noAuth",
                                 .new_pin = pin,
                                 .status_update = true,
                                 .timeout_ms = 20000,
                                 .card = card_fn,
                                 .card_ctx = card_p};
    int rc;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return -1;
    a.fd = sv[0];
    pthread_create(&th, NULL, server_thread, &a);
    rc = tpsd_client_run(sv[1], NULL, "127.0.0.1:1", "/tps/tps", &o, r);
    shutdown(sv[1], SHUT_RDWR);
    close(sv[1]);
    pthread_join(th, NULL);
    if (rc < 0)
        printf("# client: %s\n", r->error);
    return rc;
}

static int verify_pin(const char *pin)
{
    uint8_t a[5 + 16] = {0xB0, 0x42, 0x00, 0x00}, r[VC_RESP_MAX];
    static const uint8_t sel[] = {0x00, 0xA4, 0x04, 0x00, 0x07, 0x62,
                                  0x76, 0x01, 0xFF, 0x00, 0x00, 0x00};
    size_t n = strlen(pin);
    a[4] = (uint8_t)n;
    memcpy(a + 5, pin, n);
    vc_card_apdu(card_p, sel, sizeof(sel), r);
    n = vc_card_apdu(card_p, a, 5 + n, r);
    return n == 10 && r[8] == 0x90 && r[9] == 0x00;
}

/* The z0 object on the card, parsed. */
static int card_z0(struct tpsd_z0 *z)
{
    static const uint8_t id[4] = {'z', '0', 0, 0};
    struct vc_object *o = vc_obj_find(card_p, id);
    return o ? tpsd_z0_parse(o->data, o->size, z) : -1;
}

static void token(struct tpsd_token *t)
{
    uint8_t cuid[10];
    char hex[21];
    vc_card_cuid(card_p, cuid);
    for (int i = 0; i < 10; i++)
        snprintf(hex + 2 * i, 3, "%02X", cuid[i]);
    memset(t, 0, sizeof(*t));
    tpsd_db_get(cfg.db_path, hex, t);
}

static void enroll_blank(int scp)
{
    struct tpsd_client_result r;
    struct tpsd_token t;
    struct tpsd_z0 z;
    card_p = &cards[scp == 2 ? 0 : 1];
    vc_card_init(card_p);
    card_p->scp = scp;
    EXPECT_EQ(run_op(1, "24681357", &r), 0);
    EXPECT(r.end_op);
    EXPECT_EQ(r.result, 0);
    EXPECT_EQ(r.message, 0);
    EXPECT(r.new_pin && r.pin_min == 4 && r.pin_max == 10);
    EXPECT(!r.login && !r.ext_login); /* noAuth */
    EXPECT(r.n_progress >= 6);
    EXPECT_EQ(r.progress[r.n_progress - 1], 100);
    EXPECT_EQ(card_p->lifecycle, 0x0F);
    EXPECT(verify_pin("24681357"));
    EXPECT(card_z0(&z) == 0);
    EXPECT_EQ(z.n_certs, 2);
    tpsd_z0_free(&z);
    token(&t);
    EXPECT_EQ(t.status, TS_ACTIVE);
    EXPECT(strchr(t.certs, ',') != NULL);
}

static void test_enroll_blank_scp02(void)
{
    enroll_blank(2);
}

static void test_enroll_blank_scp01(void)
{
    enroll_blank(1);
}

static void test_pin_reset(void)
{
    struct tpsd_client_result r;
    EXPECT_EQ(run_op(3, "97531246", &r), 0);
    EXPECT_EQ(r.result, 0);
    EXPECT(verify_pin("97531246"));
    EXPECT(!verify_pin("24681357"));
}

static void test_renew(void)
{
    struct tpsd_client_result r;
    struct tpsd_z0 before, after;
    EXPECT(card_z0(&before) == 0);
    EXPECT_EQ(run_op(4, NULL, &r), 0);
    EXPECT_EQ(r.result, 0);
    EXPECT(card_z0(&after) == 0);
    EXPECT_EQ(after.object_version, (uint16_t)(before.object_version + 1));
    EXPECT_EQ(after.n_certs, 2);
    EXPECT(after.certs[0].der_len != before.certs[0].der_len ||
           memcmp(after.certs[0].der, before.certs[0].der, after.certs[0].der_len) != 0);
    tpsd_z0_free(&before);
    tpsd_z0_free(&after);
    EXPECT(verify_pin("97531246")); /* the PIN survives a renewal */
}

static void test_format_then_pin_reset_refused(void)
{
    struct tpsd_client_result r;
    struct tpsd_token t;
    static const uint8_t id[4] = {'z', '0', 0, 0};
    EXPECT_EQ(run_op(5, NULL, &r), 0);
    EXPECT_EQ(r.result, 0);
    EXPECT_EQ(card_p->lifecycle, 0x07);
    EXPECT(vc_obj_find(card_p, id) == NULL);
    token(&t);
    EXPECT_EQ(t.status, TS_FORMATTED);
    EXPECT_EQ(run_op(3, "11112222", &r), 0);
    EXPECT_EQ(r.result, 1);
    EXPECT_EQ(r.message, 27);
}

int main(void)
{
    char ca[300], db[300], arch[300];
    char *argv[] = {"tps", "--ca-dir",      ca,   "--http-port",   "1",  "--db",
                    db,    "--archive-dir", arch, "--msg-timeout", "20", NULL};
    if (!mkdtemp(dir))
        return 1;
    snprintf(ca, sizeof(ca), "%s/ca", dir);
    snprintf(db, sizeof(db), "%s/tokendb", dir);
    snprintf(arch, sizeof(arch), "%s/archive", dir);
    if (tpsd_config_parse(&cfg, 11, argv) < 0)
        return 1;
    ctx.cfg = &cfg;
    ctx.ca = testca_open(ca);
    snprintf(ctx.issuer_info, sizeof(ctx.issuer_info), "http://127.0.0.1:1/tps/phoneHome");
    srv.ctx = &ctx;
    snprintf(srv.operation_url, sizeof(srv.operation_url), "http://127.0.0.1:1/tps/tps");
    if (!ctx.ca) {
        printf("FAIL: setup: no test CA\n");
        return 1;
    }
    RUN(test_enroll_blank_scp02);
    RUN(test_enroll_blank_scp01);
    RUN(test_pin_reset);
    RUN(test_renew);
    RUN(test_format_then_pin_reset_refused);
    testca_close(ctx.ca);
    {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            return 1;
    }
    return check_status();
}
