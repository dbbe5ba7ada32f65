/* test_vcard_state: the card's state file: a provisioned card survives save + load with the
 * same keys (same signatures), PINs, tries, objects and secure-channel counters; saving is
 * atomic and private; damaged files are refused with the card left fresh. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rsa.h>

#include "check.h"
#include "test_vcard_util.h"
#include "vc_provision.h"
#include "vc_state.h"

static char dir[] = "/tmp/test_vcard_state.XXXXXX";
static char path[256], ca_dir[256];

static int provision(struct vc_card *c, const char *preset)
{
    const struct vc_provision_opts o = {.preset = preset,
                                        .ca_dir = ca_dir,
                                        .phone_home = "http://127.0.0.1:1/tps/phoneHome",
                                        .user = "jsmith",
                                        .pin = "246810",
                                        .key_bits = 1024,
                                        .pin_tries = 5,
                                        .scp = 2};
    return vc_provision(c, &o);
}

/* Raw private-key operation through COMPUTE CRYPT after login: the card's own answer. */
static int card_sign(struct vc_card *c, uint8_t key, uint8_t out[128])
{
    struct rsp r;
    uint8_t a[5 + 5 + 128 + 8] = {0xB0, 0x36, key, 0x04, 5 + 128 + 8, 0x00, 0x03, 0x01, 0x00, 128};
    if (select_applet(c) != 0x9000 || tx(c, "B0 42 00 00 06 32 34 36 38 31 30", &r) != 0x9000)
        return -1;
    memset(a + 10, 0x01, 128);
    a[10] = 0x00;
    memcpy(a + 10 + 128, r.d, 8);
    if (txb(c, a, sizeof(a), &r) != 0x9000 || r.len != 130)
        return -1;
    memcpy(out, r.d + 2, 128);
    return 0;
}

static void test_round_trip(void)
{
    struct vc_card a, b;
    struct rsp r;
    uint8_t s1[128], s2[128];
    EXPECT_EQ(provision(&a, "enrolled"), 0);
    a.pins[0].tries_left = 3;
    a.seq = 0x1234;
    EXPECT_EQ(vc_state_save(&a, path), 0);
    EXPECT_EQ(vc_state_load(&b, path), 0);
    EXPECT_MEM(a.cplc, b.cplc, VC_CPLC_LEN);
    EXPECT_MEM(a.issuer, b.issuer, VC_ISSUER_LEN);
    EXPECT(b.applet_installed && b.package_loaded && b.lifecycle == 0x0F && b.seq == 0x1234);
    EXPECT(b.pins[0].present && b.pins[0].tries_left == 3 && b.pins[0].max_tries == 5);
    EXPECT_EQ(b.n_objs, a.n_objs);
    EXPECT_EQ(b.objs[0].size, a.objs[0].size);
    EXPECT_MEM(b.objs[0].data, a.objs[0].data, a.objs[0].size);
    EXPECT(memcmp(b.objs[0].acl, a.objs[0].acl, sizeof(a.objs[0].acl)) == 0);
    for (int i = 0; i < VC_MAX_KEYS; i++) {
        EXPECT_EQ(a.keys[i].type, b.keys[i].type);
        EXPECT_EQ(a.keys[i].mate, b.keys[i].mate);
        if (a.keys[i].type)
            EXPECT(EVP_PKEY_eq(a.keys[i].pkey, b.keys[i].pkey) == 1);
    }
    EXPECT_EQ(b.n_keysets, 1u);
    EXPECT_MEM(b.keysets[0].kek, a.keysets[0].kek, 16);
    /* the same key answers the same way (PKCS#1 v1.5 is deterministic) */
    EXPECT_EQ(card_sign(&a, 2, s1), 0);
    EXPECT_EQ(card_sign(&b, 2, s2), 0);
    EXPECT_MEM(s1, s2, 128);
    /* the reloaded card is fully usable: coolkey's first commands */
    EXPECT_EQ(tx(&b, "B0 F2 00 00 04", &r), 0x9000);
    EXPECT(r.d[0] == 0x0F && r.d[1] == 1);
    EXPECT_EQ(tx(&b, "B0 56 00 00 11 7A 30 00 00 00 00 00 00 FF 00 00 00 00 00 00 00 00", &r),
              0x9000);
    EXPECT(r.len == 255 && r.d[0] == 1 && r.d[1] == 0); /* z0 format version 1.0 */
    vc_card_free(&a);
    vc_card_free(&b);
}

static void test_atomic_and_private(void)
{
    struct vc_card a;
    struct stat st;
    EXPECT_EQ(provision(&a, "formatted"), 0);
    EXPECT_EQ(vc_state_save(&a, path), 0);
    EXPECT_EQ(stat(path, &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    EXPECT(access(tmp, F_OK) != 0); /* no temp file left behind */
    /* saving into a missing directory fails cleanly and leaves the old file */
    char bad[300];
    snprintf(bad, sizeof(bad), "%s/missing/state", dir);
    EXPECT_EQ(vc_state_save(&a, bad), -1);
    vc_card_free(&a);
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_corrupt_refused(void)
{
    struct vc_card c;
    static const char *bad[] = {
        "",
        "not a card\n",
        "vcard-state 1\n", /* no key set */
        "vcard-state 1\nkeyset 1 4041 4041 4041\n",
        "vcard-state 1\nkeyset 1 404142434445464748494a4b4c4d4e4f 404142434445464748494a4b4c4d4e4f "
        "404142434445464748494a4b4c4d4e4f\npin 9 5 5 31323334\n",
        "vcard-state 1\nkeyset 1 404142434445464748494a4b4c4d4e4f 404142434445464748494a4b4c4d4e4f "
        "404142434445464748494a4b4c4d4e4f\nkey 2 3 255 0 16384 1 30820102\n",
        "vcard-state 1\nkeyset 1 404142434445464748494a4b4c4d4e4f 404142434445464748494a4b4c4d4e4f "
        "404142434445464748494a4b4c4d4e4f\nobject 7a300000 65535 16384 16384 zz\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(bad[i]);
        EXPECT_EQ(vc_state_load(&c, path), -1);
        EXPECT(!c.applet_installed && c.n_keysets == 1); /* a fresh card, not half a card */
        vc_card_free(&c);
    }
    write_file("vcard-state 1\nkeyset 1 404142434445464748494a4b4c4d4e4f "
               "404142434445464748494a4b4c4d4e4f 404142434445464748494a4b4c4d4e4f\n"
               "applet 1\npackage 1\nlifecycle 7\n");
    EXPECT_EQ(vc_state_load(&c, path), 0);
    EXPECT(c.applet_installed && c.lifecycle == 7);
    vc_card_free(&c);
    EXPECT_EQ(vc_state_load(&c, "/nonexistent/state"), -1);
    vc_card_free(&c);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/card.state", dir);
    snprintf(ca_dir, sizeof(ca_dir), "%s/ca", dir);
    RUN(test_round_trip);
    RUN(test_atomic_and_private);
    RUN(test_corrupt_refused);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_vcard_state: could not remove %s\n", dir);
    return check_status();
}
