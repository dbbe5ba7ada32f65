/* test_tps_renewal: the reference TPS as Dogtag's TPSSession / TPSEnrollProcessor behave
 * (harness: test_tps_util.h): BEGIN_OP operation=4 is answered END_OP 4/1/0 at once; an enroll
 * of an ACTIVE token renews its certificates for the same keys when the token's policy allows
 * RENEW (per key type, inside the grace period), re-enrolls with new keys when only RE_ENROLL
 * is allowed, and ends with 26 before any login when neither is; the token is ACTIVE in the DB
 * before CLEAR KEY SLOTS, so a client lost there leaves an active token; the Le byte after
 * READ OBJECT / GENERATE KEY is left out only on SCP01 with --no-le-byte. */
#include <openssl/x509.h>

#include "test_tps_util.h"

/* what the hook saw: GENERATE KEY APDUs, and secured READ OBJECT / GENERATE KEY with and
 * without the Le trailer */
static unsigned n_genkey, n_with_le, n_without_le;
static int drop_at_clear_slots;

static int watch(const uint8_t *a, size_t len)
{
    if (len >= 5 && a[0] == 0x84 && (a[1] == 0x56 || a[1] == 0x0C)) {
        n_genkey += a[1] == 0x0C;
        if (len == 6 + (size_t)a[4])
            n_with_le++;
        else if (len == 5 + (size_t)a[4])
            n_without_le++;
    }
    if (drop_at_clear_slots && len >= 2 && a[0] == 0x84 && a[1] == 0x55)
        return -1;
    return 0;
}

static void reset_watch(void)
{
    n_genkey = n_with_le = n_without_le = 0;
}

/* A certificate's modulus (hex) and notAfter relative to now (seconds). */
static int cert_info(const struct tpsd_z0cert *c, char *mod, size_t cap, long long *left)
{
    const unsigned char *p = c->der;
    X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
    EVP_PKEY *pk = x ? X509_get0_pubkey(x) : NULL;
    BIGNUM *n = NULL;
    char *hex = NULL;
    int days = 0, secs = 0, ret = -1;
    if (pk && EVP_PKEY_get_bn_param(pk, "n", &n) == 1 && (hex = BN_bn2hex(n)) &&
        strlen(hex) < cap && ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) == 1) {
        snprintf(mod, cap, "%s", hex);
        *left = (long long)days * 86400 + secs;
        ret = 0;
    }
    OPENSSL_free(hex);
    BN_free(n);
    X509_free(x);
    return ret;
}

struct snap {
    char mod[2][600];
    long long left[2];
    uint8_t der[2][2048];
    size_t der_len[2];
    uint16_t version;
};

static int snapshot(struct snap *s)
{
    struct tpsd_z0 z;
    int ret = -1;
    memset(s, 0, sizeof(*s));
    if (card_z0(&z) < 0)
        return -1;
    if (z.n_certs == 2) {
        ret = 0;
        for (size_t i = 0; i < 2; i++) {
            size_t k = z.certs[i].index == 1 ? 0 : 1;
            if (cert_info(&z.certs[i], s->mod[k], sizeof(s->mod[k]), &s->left[k]) < 0 ||
                z.certs[i].der_len > sizeof(s->der[k]))
                ret = -1;
            else
                memcpy(s->der[k], z.certs[i].der, s->der_len[k] = z.certs[i].der_len);
        }
        s->version = z.object_version;
    }
    tpsd_z0_free(&z);
    return ret;
}

static void test_op4_answered_as_dogtag(void)
{
    struct tpsd_client_result r;
    vc_card_init(card_p);
    EXPECT_EQ(run_op(4, NULL, &r), 0);
    EXPECT(r.end_op);
    EXPECT_EQ(r.operation, 4);
    EXPECT_EQ(r.result, 1);
    EXPECT_EQ(r.message, 0);
    EXPECT_EQ(r.apdus, 0);
    EXPECT_EQ(r.messages, 1); /* END_OP is the only server message */
    EXPECT(!r.login && !r.new_pin && r.n_progress == 0);
}

static void test_enroll_first(void)
{
    struct tpsd_client_result r;
    struct tpsd_token t;
    EXPECT_EQ(run_op(1, "24681357", &r), 0);
    EXPECT_EQ(r.result, 0);
    token(&t);
    EXPECT_EQ(t.status, TS_ACTIVE);
    /* a new record carries the default policy, as fillTokenRecordDefaultPolicy */
    EXPECT(strstr(t.policy, "RENEW=NO") != NULL);
}

/* RE_ENROLL=NO and RENEW=NO: 26 before the login, no PIN asked, the card untouched */
static void test_neither_allowed(void)
{
    struct tpsd_client_result r;
    struct snap a, b;
    EXPECT(snapshot(&a) == 0);
    set_policy("RE_ENROLL=NO;RENEW=NO");
    reset_watch();
    EXPECT_EQ(run_op(1, "11112222", &r), 0);
    EXPECT_EQ(r.result, 1);
    EXPECT_EQ(r.message, 26);
    EXPECT(!r.new_pin && r.n_progress == 0);
    EXPECT_EQ(n_genkey, 0);
    EXPECT(snapshot(&b) == 0);
    EXPECT(memcmp(&a, &b, sizeof(a)) == 0);
    EXPECT(verify_pin("24681357"));
}

/* RENEW=YES but the certificates (10 days left) outside a 5-day grace period: Dogtag's
 * processRenewal renews nothing, returns 37, and enroll ends with 7; the certificates stay */
static void test_renew_outside_grace(void)
{
    struct tpsd_client_result r;
    struct snap a, b;
    EXPECT(snapshot(&a) == 0);
    set_policy("RENEW=YES");
    for (int k = 0; k < KT_COUNT; k++)
        cfg.renewal[TT_NOAUTH][k] = (struct tpsd_renewal){
            .enable = true, .grace_enable = true, .grace_before = 5, .grace_after = 30};
    EXPECT_EQ(run_op(1, "24681357", &r), 0);
    EXPECT_EQ(r.result, 1);
    EXPECT_EQ(r.message, 7);
    EXPECT(r.new_pin); /* the PIN is reset before the renewal decision, as in Dogtag */
    EXPECT(snapshot(&b) == 0);
    EXPECT(memcmp(a.der, b.der, sizeof(a.der)) == 0);
}

/* RENEW=YES inside a 30-day grace period, signing renewal on, encryption off: the signing
 * certificate is re-issued for the same key with a later notAfter, the encryption one kept */
static void test_renew_in_grace(void)
{
    struct tpsd_client_result r;
    struct tpsd_token t;
    struct snap a, b;
    EXPECT(snapshot(&a) == 0);
    cfg.renewal[TT_NOAUTH][KT_SIGNING].grace_before = 30;
    cfg.renewal[TT_NOAUTH][KT_ENCRYPTION].enable = false;
    cfg.cert_days = 365;
    reset_watch();
    EXPECT_EQ(run_op(1, "36925814", &r), 0);
    EXPECT_EQ(r.result, 0);
    EXPECT_EQ(r.message, 0); /* RENEWAL_IS_PROCESSED (44) stays inside the TPS */
    EXPECT(r.new_pin);
    EXPECT_EQ(r.progress[r.n_progress - 1], 100);
    EXPECT_EQ(n_genkey, 0); /* no key generated: the keys stay on the card */
    EXPECT(snapshot(&b) == 0);
    EXPECT(strcmp(a.mod[0], b.mod[0]) == 0);
    EXPECT(b.left[0] > a.left[0] + 300 * 86400LL);
    EXPECT(a.der_len[1] == b.der_len[1] && memcmp(a.der[1], b.der[1], a.der_len[1]) == 0);
    EXPECT_EQ(b.version, (uint16_t)(a.version + 1));
    EXPECT(verify_pin("36925814"));
    token(&t);
    EXPECT_EQ(t.status, TS_ACTIVE);
    cfg.renewal[TT_NOAUTH][KT_ENCRYPTION].enable = true;
}

/* RENEW=NO, RE_ENROLL=YES (Dogtag's default policy): new key pairs, new certificates */
static void test_reenroll(void)
{
    struct tpsd_client_result r;
    struct snap a, b;
    EXPECT(snapshot(&a) == 0);
    set_policy("RENEW=NO");
    reset_watch();
    EXPECT_EQ(run_op(1, "24681357", &r), 0);
    EXPECT_EQ(r.result, 0);
    EXPECT_EQ(n_genkey, 2);
    EXPECT(snapshot(&b) == 0);
    EXPECT(strcmp(a.mod[0], b.mod[0]) != 0 && strcmp(a.mod[1], b.mod[1]) != 0);
}

/* A client lost at CLEAR KEY SLOTS (after the certificates are written): the token is ACTIVE
 * already, so a later PIN reset is accepted */
static void test_active_before_clear_slots(void)
{
    struct tpsd_client_result r;
    struct tpsd_token t;
    EXPECT_EQ(run_op(5, NULL, &r), 0);
    token(&t);
    EXPECT_EQ(t.status, TS_FORMATTED);
    drop_at_clear_slots = 1;
    EXPECT(run_op(1, "24681357", &r) < 0);
    drop_at_clear_slots = 0;
    EXPECT(!r.end_op);
    token(&t);
    EXPECT_EQ(t.status, TS_ACTIVE);
    EXPECT_EQ(run_op(3, "97531246", &r), 0);
    EXPECT_EQ(r.result, 0);
    EXPECT(verify_pin("97531246"));
}

/* --no-le-byte: SCP01 READ OBJECT / GENERATE KEY without the Le trailer; enroll, PIN reset and
 * format work; without the flag they carry it; on SCP02 the flag changes nothing */
static void test_no_le_byte(void)
{
    struct tpsd_client_result r;
    card_p = &cards[1];
    vc_card_init(card_p);
    card_p->scp = 1;
    cfg.no_le_byte = true;
    reset_watch();
    EXPECT_EQ(run_op(1, "24681357", &r), 0);
    EXPECT_EQ(r.result, 0);
    EXPECT(n_without_le >= 3 && n_with_le == 0);
    EXPECT(verify_pin("24681357"));
    EXPECT_EQ(run_op(3, "97531246", &r), 0);
    EXPECT_EQ(r.result, 0);
    EXPECT(verify_pin("97531246"));
    EXPECT_EQ(run_op(5, NULL, &r), 0);
    EXPECT_EQ(r.result, 0);
    EXPECT_EQ(card_p->lifecycle, 0x07);
    cfg.no_le_byte = false;
    reset_watch();
    EXPECT_EQ(run_op(1, "24681357", &r), 0);
    EXPECT_EQ(r.result, 0);
    EXPECT(n_with_le >= 3 && n_without_le == 0);
    card_p = &cards[0];
    cfg.no_le_byte = true;
    reset_watch();
    EXPECT_EQ(run_op(1, "24681357", &r), 0);
    EXPECT_EQ(r.result, 0);
    EXPECT(n_with_le >= 3 && n_without_le == 0);
    cfg.no_le_byte = false;
}

int main(void)
{
    static const char *const extra[] = {"--default-policy",
                                        "RE_ENROLL=YES;RENEW=NO;FORCE_FORMAT=NO;PIN_RESET=YES",
                                        "--cert-days", "10", NULL};
    if (tt_setup(extra) < 0)
        return 1;
    apdu_hook = watch;
    RUN(test_op4_answered_as_dogtag);
    RUN(test_enroll_first);
    RUN(test_neither_allowed);
    RUN(test_renew_outside_grace);
    RUN(test_renew_in_grace);
    RUN(test_reenroll);
    RUN(test_active_before_clear_slots);
    RUN(test_no_le_byte);
    if (tt_teardown() < 0)
        return 1;
    return check_status();
}
