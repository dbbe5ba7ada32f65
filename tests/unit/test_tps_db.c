/* test_tps_db: the reference TPS's token database file and fault file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "tpsd_db.h"
#include "tpsd_policy.h"
#include "tpsd_faults.h"

static char dir[] = "/tmp/test_tps_db.XXXXXX";

static void test_line_roundtrip(void)
{
    struct tpsd_token t = {.status = TS_ACTIVE, .updated = 1700000000};
    struct tpsd_token u;
    char line[2048];
    snprintf(t.cuid, sizeof(t.cuid), "40906145C9040000ABCD");
    snprintf(t.owner, sizeof(t.owner), "j smith=%%&x");
    snprintf(t.type, sizeof(t.type), "userKey");
    snprintf(t.certs, sizeof(t.certs), "0A1B,0C2D");
    EXPECT(tpsd_db_format_line(&t, line, sizeof(line)) > 0);
    EXPECT(strchr(line, ' ') != NULL);
    /* '=' and ';' are plain (policy strings stay readable), space, '%', '&' escaped */
    EXPECT(strstr(line, "owner=j%20smith=%25%26x ") != NULL);
    EXPECT_EQ(tpsd_db_parse_line(line, &u), 0);
    EXPECT_STR(u.cuid, t.cuid);
    EXPECT_STR(u.owner, t.owner);
    EXPECT_STR(u.certs, t.certs);
    EXPECT_EQ(u.status, TS_ACTIVE);
    EXPECT_STR(u.policy, "");
    EXPECT_EQ(u.updated, 1700000000);
}

static void test_line_hostile(void)
{
    static const char *bad[] = {
        "",
        "XYZ status=active",
        "40906145C9040000ABCD",
        "40906145C9040000ABCD status=bogus",
        "40906145C9040000ABCD status=active owner=%zz",
        "40906145C9040000ABCD status=active owner=%00",
        "40906145C9040000ABCD status=active owner=a%2",
        "40906145C9040000ABCD noequals",
        "40906145C9040000ABCD status=active updated=12x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tpsd_token t;
        EXPECT_EQ(tpsd_db_parse_line(bad[i], &t), -1);
    }
}

static void test_put_get_replace(void)
{
    char path[256];
    struct tpsd_token a = {.status = TS_FORMATTED}, b = {.status = TS_ACTIVE}, r;
    struct stat st;
    snprintf(path, sizeof(path), "%s/tokendb", dir);
    EXPECT_EQ(tpsd_db_get(path, "40906145C9040000ABCD", &r), 1); /* missing file */
    snprintf(a.cuid, sizeof(a.cuid), "40906145C9040000ABCD");
    snprintf(b.cuid, sizeof(b.cuid), "11112222333344445555");
    snprintf(b.owner, sizeof(b.owner), "jsmith");
    EXPECT_EQ(tpsd_db_put(path, &a), 0);
    EXPECT_EQ(tpsd_db_put(path, &b), 0);
    a.status = TS_ACTIVE;
    snprintf(a.owner, sizeof(a.owner), "mjones");
    EXPECT_EQ(tpsd_db_put(path, &a), 0);
    EXPECT_EQ(tpsd_db_get(path, "40906145c9040000abcd", &r), 0); /* CUID case-insensitive */
    EXPECT_EQ(r.status, TS_ACTIVE);
    EXPECT_STR(r.owner, "mjones");
    EXPECT_EQ(tpsd_db_get(path, "11112222333344445555", &r), 0);
    EXPECT_STR(r.owner, "jsmith");
    EXPECT_EQ(tpsd_db_get(path, "00000000000000000000", &r), 1);
    /* no temp file is left behind */
    snprintf(path, sizeof(path), "%s/tokendb.tmp", dir);
    EXPECT(stat(path, &st) != 0);
}

static void test_hand_edited_file(void)
{
    char path[256];
    struct tpsd_token r;
    FILE *fp;
    snprintf(path, sizeof(path), "%s/edited", dir);
    fp = fopen(path, "w");
    EXPECT(fp != NULL);
    fputs("# comment\ngarbage line\n99998888777766665555 status=disabled owner=jsmith\n", fp);
    fclose(fp);
    EXPECT_EQ(tpsd_db_get(path, "99998888777766665555", &r), 0);
    EXPECT_EQ(r.status, TS_DISABLED);
}

/* A hand-written policy and Dogtag's other token states are read back */
static void test_policy_and_states(void)
{
    struct tpsd_token r;
    struct tpsd_policy p;
    char line[4096];
    EXPECT_EQ(tpsd_db_parse_line("99998888777766665555 status=suspended owner=jsmith "
                                 "policy=RENEW=YES;re_enroll=no;PIN_RESET=maybe",
                                 &r),
              0);
    EXPECT_EQ(r.status, TS_SUSPENDED);
    EXPECT_STR(r.policy, "RENEW=YES;re_enroll=no;PIN_RESET=maybe");
    tpsd_policy_resolve(&p, TPSD_DOGTAG_DEFAULT_POLICY, r.policy);
    EXPECT(p.renew && !p.re_enroll && !p.force_format && p.renew_keep_old_enc);
    EXPECT(!p.pin_reset); /* an unknown value: PIN_RESET's fallback (false) */
    tpsd_policy_resolve(&p, "PIN_RESET=YES", NULL);
    EXPECT(p.re_enroll && !p.renew && p.pin_reset);
    EXPECT_EQ(tpsd_policy_format(&p, line, sizeof(line)), 0);
    EXPECT_STR(line, "RE_ENROLL=YES;RENEW=NO;FORCE_FORMAT=NO;PIN_RESET=YES;"
                     "RESET_PIN_RESET_TO_NO=NO;RENEW_KEEP_OLD_ENC_CERTS=YES");
    memcpy(r.policy, line, strlen(line) + 1); /* 115 bytes: fits */
    EXPECT(tpsd_db_format_line(&r, line, sizeof(line)) > 0);
    EXPECT(strstr(line, " policy=RE_ENROLL=YES;RENEW=NO;") != NULL);
    for (int s = 0; s < TS_COUNT; s++) {
        char l2[256];
        snprintf(l2, sizeof(l2), "99998888777766665555 status=%s", tpsd_tstatus_name(s));
        EXPECT_EQ(tpsd_db_parse_line(l2, &r), 0);
        EXPECT_EQ((int)r.status, s);
    }
    EXPECT_EQ(tpsd_db_parse_line("99998888777766665555 status=lost_forever", &r), -1);
    /* enroll: formatted/active only; format: also uninitialized (tps.operations.allowedTransitions)
     */
    EXPECT(tpsd_tstatus_op_allowed(TS_ACTIVE, TS_ACTIVE) &&
           tpsd_tstatus_op_allowed(TS_FORMATTED, TS_ACTIVE));
    EXPECT(!tpsd_tstatus_op_allowed(TS_SUSPENDED, TS_ACTIVE) &&
           !tpsd_tstatus_op_allowed(TS_TERMINATED, TS_ACTIVE));
    EXPECT(!tpsd_tstatus_op_allowed(TS_UNINITIALIZED, TS_ACTIVE) &&
           tpsd_tstatus_op_allowed(TS_UNINITIALIZED, TS_FORMATTED));
    EXPECT(!tpsd_tstatus_op_allowed(TS_LOST, TS_FORMATTED) &&
           !tpsd_tstatus_op_allowed(TS_DAMAGED, TS_FORMATTED));
}

static void test_faults(void)
{
    struct tpsd_faults f;
    EXPECT_EQ(tpsd_faults_parse(&f, "drop 3\n# c\nstall 2 5\nmalformed 4\nend_op 14\nlatency 20\n"
                                    "http_status 503\nphone_home_status 500\nreset 7\n"),
              0);
    EXPECT_EQ(f.drop_after, 3);
    EXPECT_EQ(f.stall_at, 2);
    EXPECT_EQ(f.stall_secs, 5);
    EXPECT_EQ(f.malformed_at, 4);
    EXPECT_EQ(f.end_op, 14);
    EXPECT_EQ(f.latency_ms, 20);
    EXPECT_EQ(f.http_status, 503);
    EXPECT_EQ(f.phone_home_status, 500);
    EXPECT_EQ(f.reset_after, 7);
    EXPECT(tpsd_faults_any(&f));
    EXPECT_EQ(
        tpsd_faults_parse(&f, "drop\nstall 1\nend_op 100\nlatency -1\nbogus 1\nhttp_status 42"), 6);
    EXPECT(!tpsd_faults_any(&f));
    EXPECT_EQ(f.end_op, -1);
    /* the fault matrix's knobs (tests/integration/fault_matrix_rows.sh) */
    EXPECT_EQ(tpsd_faults_parse(&f, "end_op 14 0\nflood pdu\noversized 3\nphone_home_stall 2\n"
                                    "phone_home_body /tmp/x.xml\nphone_home_redirect http://a/\n"),
              0);
    EXPECT_EQ(f.end_op, 14);
    EXPECT_EQ(f.end_op_result, 0);
    EXPECT_EQ(f.flood, TPSD_FLOOD_PDU);
    EXPECT_EQ(f.oversized_at, 3);
    EXPECT_EQ(f.phone_home_stall_secs, 2);
    EXPECT(strcmp(f.phone_home_body, "/tmp/x.xml") == 0);
    EXPECT(strcmp(f.phone_home_redirect, "http://a/") == 0);
    EXPECT_EQ(tpsd_faults_parse(&f, "end_op -1 1\nflood status\n"), 0);
    EXPECT_EQ(f.end_op, TPSD_END_OP_NO_MESSAGE);
    EXPECT_EQ(f.end_op_result, 1);
    EXPECT_EQ(f.flood, TPSD_FLOOD_STATUS);
    EXPECT_EQ(tpsd_faults_parse(&f, "end_op 0\n"), 0);
    EXPECT_EQ(f.end_op_result, 0);
    EXPECT_EQ(tpsd_faults_parse(&f, "end_op 5 2\nflood lots\noversized 0\nend_op -2\ndrop 1 2 3\n"),
              5);
    EXPECT(!tpsd_faults_any(&f));
    tpsd_faults_load(&f, "/nonexistent/faults");
    EXPECT(!tpsd_faults_any(&f));
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(test_line_roundtrip);
    RUN(test_line_hostile);
    RUN(test_put_get_replace);
    RUN(test_hand_edited_file);
    RUN(test_policy_and_states);
    RUN(test_faults);
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            return 1;
    }
    return check_status();
}
