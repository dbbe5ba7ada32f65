/* test_tps_ldap: the reference TPS's user check against a real, throwaway slapd (started
 * here from the templates in tests/rig/ldap): right password, wrong password, empty password (which
 * would be an unauthenticated bind), unknown user, filter metacharacters, server down. */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "tpsd_ldap.h"

extern char **environ;

static char dir[] = "/tmp/test_tps_ldap.XXXXXX";
static char url[64];
static pid_t slapd_pid;

static int start_slapd(void)
{
    char conf[256], port[16];
    const char *top = getenv("ESC_TOP") ? getenv("ESC_TOP") : ".";
    int p = 20000 + (int)(getpid() % 20000);
    snprintf(port, sizeof(port), "%d", p);
    snprintf(url, sizeof(url), "ldap://127.0.0.1:%d/", p);
    snprintf(conf, sizeof(conf), "%s/slapd.conf", dir);
    {
        char cmd[2048];
        snprintf(cmd, sizeof(cmd),
                 "mkdir -p %s/db && sed -e 's#@RIG_LDAP_DIR@#%s#g' %s/tests/rig/ldap/slapd.conf.in "
                 "> %s && "
                 "sed -e 's#@RIG_LDAP_USER@#jsmith#g' -e 's#@RIG_LDAP_PASSWORD@#pw-j s+x#g' "
                 "-e 's#@RIG_LDAP_USER2@#mjones#g' -e 's#@RIG_LDAP_PASSWORD2@#pw-m#g' "
                 "%s/tests/rig/ldap/base.ldif.in > %s/base.ldif && "
                 "/usr/sbin/slapadd -q -f %s -l %s/base.ldif",
                 dir, dir, top, conf, top, dir, conf, dir);
        if (system(cmd) != 0)
            return -1;
    }
    {
        char h[80];
        char *argv[] = {"slapd", "-h", h, "-f", conf, "-d", "0", NULL};
        snprintf(h, sizeof(h), "ldap://127.0.0.1:%s/", port);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
        if (posix_spawn(&slapd_pid, "/usr/sbin/slapd", &fa, NULL, argv, environ) != 0)
            return -1;
        posix_spawn_file_actions_destroy(&fa);
    }
    for (int i = 0; i < 100; i++) {
        char cn[64];
        if (tpsd_ldap_check(url, "dc=example,dc=com", "nobody", "x", cn, sizeof(cn)) !=
            TPSD_LDAP_UNAVAILABLE)
            return 0;
        usleep(50000);
    }
    return -1;
}

static int have_slapd;

static void test_right_password(void)
{
    char cn[64];
    if (!have_slapd)
        SKIP("slapd could not be started");
    EXPECT_EQ(tpsd_ldap_check(url, "dc=example,dc=com", "jsmith", "pw-j s+x", cn, sizeof(cn)),
              TPSD_LDAP_OK);
    EXPECT_STR(cn, "John Smith");
}

static void test_wrong_and_empty_password(void)
{
    char cn[64];
    if (!have_slapd)
        SKIP("slapd could not be started");
    EXPECT_EQ(tpsd_ldap_check(url, "dc=example,dc=com", "jsmith", "pw-m", cn, sizeof(cn)),
              TPSD_LDAP_BAD_CREDENTIALS);
    EXPECT_EQ(tpsd_ldap_check(url, "dc=example,dc=com", "jsmith", "", cn, sizeof(cn)),
              TPSD_LDAP_BAD_CREDENTIALS);
}

static void test_unknown_user_and_injection(void)
{
    char cn[64];
    if (!have_slapd)
        SKIP("slapd could not be started");
    EXPECT_EQ(tpsd_ldap_check(url, "dc=example,dc=com", "nosuch", "pw-m", cn, sizeof(cn)),
              TPSD_LDAP_BAD_CREDENTIALS);
    /* "*" must be a literal, not a wildcard matching both users */
    EXPECT_EQ(tpsd_ldap_check(url, "dc=example,dc=com", "*", "pw-m", cn, sizeof(cn)),
              TPSD_LDAP_BAD_CREDENTIALS);
    EXPECT_EQ(tpsd_ldap_check(url, "dc=example,dc=com", "mj*)(uid=*", "pw-m", cn, sizeof(cn)),
              TPSD_LDAP_BAD_CREDENTIALS);
    EXPECT_EQ(tpsd_ldap_check(url, "dc=example,dc=com", "mjones", "pw-m", cn, sizeof(cn)),
              TPSD_LDAP_OK);
}

static void test_server_down(void)
{
    char cn[64];
    EXPECT_EQ(
        tpsd_ldap_check("ldap://127.0.0.1:1/", "dc=example,dc=com", "jsmith", "x", cn, sizeof(cn)),
        TPSD_LDAP_UNAVAILABLE);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    have_slapd = access("/usr/sbin/slapd", X_OK) == 0 && start_slapd() == 0;
    RUN(test_right_password);
    RUN(test_wrong_and_empty_password);
    RUN(test_unknown_user_and_injection);
    RUN(test_server_down);
    if (slapd_pid > 0) {
        kill(slapd_pid, SIGTERM);
        waitpid(slapd_pid, NULL, 0);
    }
    {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            return 1;
    }
    return check_status();
}
