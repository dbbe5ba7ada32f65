/* test_pe_offer: pam_esc's renewal offer and its day-long "not now" (pam_esc/pe_offer.h):
 * when renewal is due, the question's date, and the memory file, which only counts when it is
 * a regular file of ours in a directory nobody else can write, younger than a day. */
#include "check.h"
#include "pe_offer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DAY 86400
static char tdir[64];

static void test_renew_due(void)
{
    time_t now = 1800000000;

    EXPECT(pe_offer_renew_due(now + 5 * DAY, 14, now));
    EXPECT(pe_offer_renew_due(now + 14 * DAY, 14, now));
    EXPECT(!pe_offer_renew_due(now + 15 * DAY, 14, now));
    EXPECT(!pe_offer_renew_due(now - 1, 14, now));  /* expired: EXPIRED's business */
    EXPECT(!pe_offer_renew_due(0, 14, now));        /* no certificate read */
    EXPECT(!pe_offer_renew_due(now + DAY, 0, now)); /* renew_days 0: never */
}

static void test_question_date(void)
{
    char q[160];

    pe_offer_renew_question(1765152000, q, sizeof q); /* 2025-12-08 00:00 UTC */
    EXPECT_STR(q, "Your smart card's certificates expire on 2025-12-08. Renew them now? [y/N] ");
}

static void test_state_dir(void)
{
    char out[128];

    pe_offer_state_dir("/var/x", "/run/user/1000", out, sizeof out);
    EXPECT_STR(out, "/var/x");
    pe_offer_state_dir(NULL, "/run/user/1000", out, sizeof out);
    EXPECT_STR(out, geteuid() == 0 ? "/run/pam_esc" : "/run/user/1000/pam_esc");
}

static void test_remember_then_declined(void)
{
    char d[96], f[160];
    time_t now = time(NULL);

    snprintf(d, sizeof d, "%s/state", tdir);
    EXPECT(!pe_offer_declined(d, "jsmith", now)); /* no directory yet */
    EXPECT(pe_offer_remember_decline(d, "jsmith"));
    EXPECT(pe_offer_declined(d, "jsmith", now));
    EXPECT(!pe_offer_declined(d, "alice", now)); /* per user */
    EXPECT(pe_offer_declined(d, "jsmith", now + DAY - 60));
    EXPECT(!pe_offer_declined(d, "jsmith", now + DAY + 60)); /* a day later: ask again */
    snprintf(f, sizeof f, "%s/renew-declined-jsmith", d);
    EXPECT(access(f, F_OK) == 0);
}

static void test_hostile_names_and_files(void)
{
    char d[96], f[160];
    time_t now = time(NULL);

    snprintf(d, sizeof d, "%s/state", tdir);
    /* names that would leave the directory or hide: refused, never written */
    EXPECT(!pe_offer_remember_decline(d, "../jsmith"));
    EXPECT(!pe_offer_remember_decline(d, ".hidden"));
    EXPECT(!pe_offer_remember_decline(d, ""));
    EXPECT(!pe_offer_remember_decline(d, NULL));
    EXPECT(!pe_offer_declined(d, "a/b", now));
    /* a link in the file's place counts for nothing */
    snprintf(f, sizeof f, "%s/renew-declined-bob", d);
    EXPECT(symlink("/etc/passwd", f) == 0);
    EXPECT(!pe_offer_declined(d, "bob", now));
    /* a FIFO neither (and opening it does not block) */
    snprintf(f, sizeof f, "%s/renew-declined-carol", d);
    EXPECT(mkfifo(f, 0600) == 0);
    EXPECT(!pe_offer_declined(d, "carol", now));
    /* a directory others can write: nothing in it counts */
    EXPECT(chmod(d, 0777) == 0);
    EXPECT(!pe_offer_declined(d, "jsmith", now));
    EXPECT(!pe_offer_remember_decline(d, "jsmith"));
    EXPECT(chmod(d, 0700) == 0);
    EXPECT(pe_offer_declined(d, "jsmith", now));
}

int main(void)
{
    snprintf(tdir, sizeof tdir, "/tmp/test_pe_offer.XXXXXX");
    if (!mkdtemp(tdir)) {
        printf("FAIL: test_pe_offer: mkdtemp\n");
        return 1;
    }
    RUN(test_renew_due);
    RUN(test_question_date);
    RUN(test_state_dir);
    RUN(test_remember_then_declined);
    RUN(test_hostile_names_and_files);
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tdir);
        if (system(cmd) != 0)
            printf("(could not remove %s)\n", tdir);
    }
    return check_status();
}
