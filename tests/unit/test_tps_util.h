/* test_tps_util.h: the harness of the reference TPS's in-process tests (tests/unit/test_tps_
 * ops.c, test_tps_renewal.c): the server side (tpsd_server_handle) in a thread on one end of a
 * socketpair, the test client (tpsd_client_run) on the other relaying every APDU to a virtual
 * card (vc_card_apdu). No pcscd, no LDAP (token type noAuth). A test may watch or cut the APDU
 * stream with `apdu_hook`. */
#ifndef ESC_TEST_TPS_UTIL_H
#define ESC_TEST_TPS_UTIL_H

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

static char tt_dir[] = "/tmp/test_tps.XXXXXX";
static struct tpsd_config cfg;
static struct tpsd_ctx ctx;
static struct tpsd_server srv;
/* One card per test family, never freed: reachable from here, so no leak report. */
static struct vc_card cards[2];
static struct vc_card *card_p = &cards[0];
/* Called with every APDU before the card sees it; -1 = the client gives up (drops). */
static int (*apdu_hook)(const uint8_t *apdu, size_t len);

static void *tt_server_thread(void *p)
{
    tpsd_server_handle(&srv, *(int *)p, 0);
    return NULL;
}

static int tt_card_fn(void *c, const uint8_t *apdu, size_t len, uint8_t *resp, size_t *rlen)
{
    uint8_t r[VC_RESP_MAX];
    size_t n;
    if (apdu_hook && apdu_hook(apdu, len) < 0)
        return -1;
    n = vc_card_apdu(c, apdu, len, r);
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
    struct tpsd_client_opts o = {.op = op,
                                 .type = "noAuth",
                                 .new_pin = pin,
                                 .status_update = true,
                                 .timeout_ms = 20000,
                                 .card = tt_card_fn,
                                 .card_ctx = card_p};
    int rc;
    memset(r, 0, sizeof(*r));
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return -1;
    pthread_create(&th, NULL, tt_server_thread, &sv[0]);
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

/* The card's token record (zeroed if there is none). */
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

/* Sets the card's token record policy string, as an administrator edits it. */
static void set_policy(const char *policy)
{
    struct tpsd_token t;
    token(&t);
    snprintf(t.policy, sizeof(t.policy), "%s", policy);
    tpsd_db_put(cfg.db_path, &t);
}

/* Starts the harness: CA, token DB and archive in a temporary directory; `extra` flags
 * (NULL-terminated) after the fixed ones. 0 or -1. */
static int tt_setup(const char *const *extra)
{
    static char ca[300], db[300], arch[300];
    char *argv[32] = {"tps", "--ca-dir",      ca,   "--http-port",   "1", "--db",
                      db,    "--archive-dir", arch, "--msg-timeout", "20"};
    int argc = 11;
    if (!mkdtemp(tt_dir))
        return -1;
    snprintf(ca, sizeof(ca), "%s/ca", tt_dir);
    snprintf(db, sizeof(db), "%s/tokendb", tt_dir);
    snprintf(arch, sizeof(arch), "%s/archive", tt_dir);
    for (; extra && *extra && argc < 31; extra++)
        argv[argc++] = (char *)*extra;
    argv[argc] = NULL;
    if (tpsd_config_parse(&cfg, argc, argv) < 0)
        return -1;
    ctx.cfg = &cfg;
    ctx.ca = testca_open(ca);
    snprintf(ctx.issuer_info, sizeof(ctx.issuer_info), "http://127.0.0.1:1/tps/phoneHome");
    srv.ctx = &ctx;
    snprintf(srv.operation_url, sizeof(srv.operation_url), "http://127.0.0.1:1/tps/tps");
    if (!ctx.ca) {
        printf("FAIL: setup: no test CA\n");
        return -1;
    }
    return 0;
}

static int tt_teardown(void)
{
    char cmd[400];
    testca_close(ctx.ca);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tt_dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
