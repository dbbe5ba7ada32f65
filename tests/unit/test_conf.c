/* test_conf: esc.conf parsing: defaults, every key, errors naming file:line, bounded
 * lines, missing files, $ESC_CONF, and the shipped config/esc.conf. */
#include "check.h"
#include "conf.h"
#include "log.h"
#include "safe_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static esc_err parse(const char *text, struct esc_conf *c, char *err, size_t errlen)
{
    conf_defaults(c);
    return conf_parse(text, strlen(text), "t.conf", c, err, errlen);
}

static void test_defaults(void)
{
    struct esc_conf c;
    conf_defaults(&c);
    EXPECT_EQ(c.probe_timeout_ms, 300);
    EXPECT_EQ(c.login_operations, CONF_OP_ENROLL | CONF_OP_PINRESET);
    EXPECT_EQ(c.tps_message_timeout, 90);
    EXPECT_STR(c.agent_user, "esc-agent");
    EXPECT_EQ(c.log_level, ESC_LOG_WARN);
    EXPECT_STR(c.phone_home_url, "");
}

static void test_all_keys(void)
{
    struct esc_conf c;
    char err[256] = "";
    const char *text = "# comment\n"
                       "\n"
                       "probe_timeout_ms = 2000\n"
                       "  login_operations=enroll renew   \n"
                       "phone_home_url = http://127.0.0.1:8080/tps/phoneHome#x\n"
                       "allowed_hosts = 127.0.0.1 localhost tps.example.com\n"
                       "allow_http_hosts = 127.0.0.1\n"
                       "ca_file = /etc/pki/ca.pem\n"
                       "cache_dir = /var/cache/esc\n"
                       "tps_message_timeout = 30\r\n"
                       "agent_user = esc_agent\n"
                       "log_level = debug\n"
                       "reader = Rig Virtual PCD 00 00";
    EXPECT_EQ(parse(text, &c, err, sizeof err), ESC_OK);
    EXPECT_EQ(c.probe_timeout_ms, 2000);
    EXPECT_EQ(c.login_operations, CONF_OP_ENROLL | CONF_OP_RENEW);
    EXPECT_STR(c.phone_home_url, "http://127.0.0.1:8080/tps/phoneHome#x");
    EXPECT(conf_list_has(c.allowed_hosts, "LOCALHOST"));
    EXPECT(!conf_list_has(c.allowed_hosts, "local"));
    EXPECT_STR(c.ca_file, "/etc/pki/ca.pem");
    EXPECT_EQ(c.tps_message_timeout, 30);
    EXPECT_STR(c.agent_user, "esc_agent");
    EXPECT_EQ(c.log_level, ESC_LOG_DEBUG);
    EXPECT_STR(c.reader, "Rig Virtual PCD 00 00");
    EXPECT_EQ(parse("login_operations = none\n", &c, err, sizeof err), ESC_OK);
    EXPECT_EQ(c.login_operations, 0);
}

static void expect_error(const char *text, const char *want)
{
    struct esc_conf c;
    char err[256] = "";
    if (parse(text, &c, err, sizeof err) != ESC_ERR_CONF || strstr(err, want) == NULL) {
        printf("FAIL: %s: config \"%.40s\" gave \"%s\", wanted \"%s\"\n", check_name_, text, err,
               want);
        check_failed_ = 1;
    }
}

static void test_errors_name_file_and_line(void)
{
    expect_error("probe_timeout_ms = 300\nbogus = 1\n", "t.conf:2: bogus: unknown key");
    expect_error("probe_timeout_ms = 0\n", "t.conf:1: probe_timeout_ms");
    expect_error("probe_timeout_ms = 12x\n", "t.conf:1:");
    expect_error("probe_timeout_ms = -5\n", "t.conf:1:");
    expect_error("probe_timeout_ms = 99999999999999999999\n", "t.conf:1:");
    expect_error("\n\nlogin_operations = enroll fly\n", "t.conf:3: login_operations");
    expect_error("phone_home_url = ftp://x/\n", "t.conf:1: phone_home_url");
    expect_error("ca_file = relative.pem\n", "absolute path");
    expect_error("agent_user = Root\n", "agent_user");
    expect_error("log_level = loud\n", "log_level");
    expect_error("allowed_hosts = a;b\n", "allowed_hosts");
    expect_error("just words\n", "t.conf:1: just: expected `key = value`");
    expect_error("= value\n", "missing key");
    expect_error("reader = a\nreader = b\n", "t.conf:2: reader: key given twice");
    expect_error("tps_message_timeout = 0\n", "tps_message_timeout");
    expect_error("reader = a\x01b\n", "control character");
    if (check_failed_)
        return;
    /* a line longer than the bound */
    static char longl[CONF_LINE_MAX + 40];
    memset(longl, 'a', sizeof longl - 1);
    memcpy(longl, "reader = ", 9);
    longl[sizeof longl - 1] = '\0';
    expect_error(longl, "t.conf:1: line longer than");
    /* a NUL byte inside a line */
    struct esc_conf c;
    char err[128];
    conf_defaults(&c);
    EXPECT_EQ(conf_parse("reader = a\0b\n", 13, "t.conf", &c, err, sizeof err), ESC_ERR_CONF);
    EXPECT(strstr(err, "NUL") != NULL);
}

/* allowed_hosts / allow_http_hosts: the syntax agent/engine/trust.c applies (conf_host_in_list). */
static void test_host_lists(void)
{
    static const char *const good[] = {
        "",
        "tps.example.com",
        "127.0.0.1 localhost",
        "*.example.com, tps.example.org:8443,[::1] [fe80::1]:80",
        "*.corp.example:443\t tps_1.example.com",
        "a,b,,c",
    };
    static const char *const bad[] = {
        "a;b",  "*",       "*.", "*.com.",  "a.*.com",     "x*.example.com", "**.x.com", "*.0.0.1",
        "h:0",  "h:65536", "h:", "h:+1",    "::1",         "[::1",           "[::1]x",   "[::g]",
        "a..b", ".a",      "a.", "h:80:80", "tps/example", "user@tps",
    };
    struct esc_conf c;
    char text[256], err[256];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(text, sizeof text, "allowed_hosts = %s\nallow_http_hosts = %s\n", good[i],
                 good[i]);
        if (parse(text, &c, err, sizeof err) != ESC_OK) {
            printf("FAIL: %s: \"%s\" refused: %s\n", check_name_, good[i], err);
            check_failed_ = 1;
            return;
        }
        EXPECT(conf_host_list_valid(good[i]));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "allowed_hosts = %s\n", bad[i]);
        expect_error(text, "t.conf:1: allowed_hosts: must be host names");
        snprintf(text, sizeof text, "allow_http_hosts = ok.example %s\n", bad[i]);
        expect_error(text, "t.conf:1: allow_http_hosts:");
        EXPECT(!conf_host_list_valid(bad[i]));
    }
    /* matching: one or more labels under a wildcard, the port when an entry names one */
    const char *l = "*.corp.example, TPS.example.org:8443 [::1]";
    EXPECT(conf_host_in_list("a.corp.example", 443, l));
    EXPECT(conf_host_in_list("a.b.CORP.example", 443, l));
    EXPECT(!conf_host_in_list("corp.example", 443, l));
    EXPECT(!conf_host_in_list("xcorp.example", 443, l));
    EXPECT(!conf_host_in_list(".corp.example", 443, l));
    EXPECT(conf_host_in_list("tps.EXAMPLE.org", 8443, l));
    EXPECT(!conf_host_in_list("tps.example.org", 443, l));
    EXPECT(conf_host_in_list("[::1]", 80, l));
    EXPECT(!conf_host_in_list("::1", 80, l));
    EXPECT(!conf_host_in_list("", 80, l));
    EXPECT(!conf_host_in_list("a.corp.example", 443, ""));
    EXPECT(!conf_host_in_list("a.corp.example", 443, NULL));
}

/* log_level: the file's level, but never quieter than the command line asked (-v, debug) */
static void test_log_level_applied(void)
{
    struct esc_conf c;
    conf_defaults(&c);
    c.log_level = ESC_LOG_ERR;
    esc_log_set_level(ESC_LOG_WARN); /* the command line asked nothing */
    conf_apply_log_level(&c);
    EXPECT_EQ(esc_log_get_level(), ESC_LOG_ERR);
    esc_log_set_level(ESC_LOG_INFO); /* -v */
    conf_apply_log_level(&c);
    EXPECT_EQ(esc_log_get_level(), ESC_LOG_INFO);
    c.log_level = ESC_LOG_DEBUG;
    conf_apply_log_level(&c);
    EXPECT_EQ(esc_log_get_level(), ESC_LOG_DEBUG);
    c.log_level = ESC_LOG_INFO;
    esc_log_set_level(ESC_LOG_DEBUG); /* -v -v */
    conf_apply_log_level(&c);
    EXPECT_EQ(esc_log_get_level(), ESC_LOG_DEBUG);
    esc_log_set_level(ESC_LOG_WARN);
}

static void test_files(void)
{
    char path[] = "/tmp/test_conf.XXXXXX", err[256] = "";
    struct esc_conf c;
    int fd = mkstemp(path);
    FILE *f;
    EXPECT(fd >= 0);
    f = fdopen(fd, "w");
    fputs("probe_timeout_ms = 123\n", f);
    fclose(f);
    unsetenv("ESC_CONF");
    EXPECT_EQ(conf_load(path, &c, err, sizeof err), ESC_OK);
    EXPECT_EQ(c.probe_timeout_ms, 123);
    setenv("ESC_CONF", path, 1);
    EXPECT_STR(conf_default_path(), path);
    EXPECT_EQ(conf_load(NULL, &c, err, sizeof err), ESC_OK);
    EXPECT_EQ(c.probe_timeout_ms, 123);
    unlink(path);
    EXPECT_EQ(conf_load(NULL, &c, err, sizeof err), ESC_ERR_CONF_MISSING);
    EXPECT(strstr(err, path) != NULL);
    EXPECT_EQ(conf_load("/nonexistent/esc.conf", &c, err, sizeof err), ESC_ERR_CONF_MISSING);
    EXPECT_EQ(conf_load("/tmp", &c, err, sizeof err), ESC_ERR_IO);
    unsetenv("ESC_CONF");
}

/* ---- the trust rule for root (safe_file.h): issue 11, defect 1 ---- */

#define NOBODY 65534

static char tdir[64];

static void put(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    chmod(path, mode);
}

static esc_err load_as_root(const char *path, char *err, size_t errlen)
{
    struct esc_conf c;
    err[0] = '\0';
    return conf_load(path, &c, err, errlen);
}

/* A fresh root-owned 0755 tree: tdir/esc.conf (0644, root). */
static bool trust_tree(void)
{
    char p[128];
    snprintf(tdir, sizeof tdir, "/tmp/test_conf_trust.XXXXXX");
    if (!mkdtemp(tdir) || chmod(tdir, 0755) != 0)
        return false;
    snprintf(p, sizeof p, "%s/esc.conf", tdir);
    put(p, "allowed_hosts = tps.example.com\n", 0644);
    return true;
}

static void rm_tree(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tdir);
}

static void test_root_refuses_conf_others_can_write(void)
{
    char p[128], err[512];
    int rv_ok, rv_group, rv_world, rv_owner;

    if (geteuid() != 0)
        SKIP("the rule applies to root only; run as root");
    EXPECT(trust_tree());
    snprintf(p, sizeof p, "%s/esc.conf", tdir);
    rv_ok = load_as_root(p, err, sizeof err);
    chmod(p, 0664);
    rv_group = load_as_root(p, err, sizeof err);
    chmod(p, 0646);
    rv_world = load_as_root(p, err, sizeof err);
    chmod(p, 0644);
    rv_owner = chown(p, NOBODY, NOBODY) == 0 ? (int)load_as_root(p, err, sizeof err) : -1;
    rm_tree();
    EXPECT_EQ(rv_ok, ESC_OK);
    EXPECT_EQ(rv_group, ESC_ERR_CONF);
    EXPECT_EQ(rv_world, ESC_ERR_CONF);
    EXPECT_EQ(rv_owner, ESC_ERR_CONF);
    EXPECT(strstr(err, "not owned by root") != NULL);
}

static void test_root_refuses_conf_in_dir_others_can_write(void)
{
    char p[128], sub[96], err[512], why[512];
    int rv_group_dir, rv_owner_dir, rv_sticky, rv_sub;

    if (geteuid() != 0)
        SKIP("the rule applies to root only; run as root");
    EXPECT(trust_tree());
    snprintf(p, sizeof p, "%s/esc.conf", tdir);
    chmod(tdir, 0775);
    rv_group_dir = load_as_root(p, err, sizeof err);
    snprintf(why, sizeof why, "%s", err);
    chmod(tdir, 0755);
    rv_owner_dir = chown(tdir, NOBODY, 0) == 0 ? (int)load_as_root(p, err, sizeof err) : -1;
    if (chown(tdir, 0, 0) != 0)
        rv_owner_dir = -1;
    /* root's sticky directory (as /tmp): nobody else can rename or remove root's file */
    chmod(tdir, 01777);
    rv_sticky = load_as_root(p, err, sizeof err);
    chmod(tdir, 0755);
    /* a directory further up: tdir/a/b/esc.conf with tdir/a writable by others */
    snprintf(sub, sizeof sub, "%s/a", tdir);
    mkdir(sub, 0757);
    chmod(sub, 0757);
    snprintf(sub, sizeof sub, "%s/a/b", tdir);
    mkdir(sub, 0755);
    snprintf(p, sizeof p, "%s/a/b/esc.conf", tdir);
    put(p, "log_level = info\n", 0644);
    rv_sub = load_as_root(p, err, sizeof err);
    rm_tree();
    EXPECT_EQ(rv_group_dir, ESC_ERR_CONF);
    EXPECT(strstr(why, "writable by group or others") != NULL);
    EXPECT_EQ(rv_owner_dir, ESC_ERR_CONF);
    EXPECT_EQ(rv_sticky, ESC_OK);
    EXPECT_EQ(rv_sub, ESC_ERR_CONF);
}

static void test_root_symlink_only_through_roots_places(void)
{
    char p[128], link[128], ud[96], err[512];
    int rv_root_link, rv_link_in_users_dir, rv_link_to_users_dir, rv_users_link;

    if (geteuid() != 0)
        SKIP("the rule applies to root only; run as root");
    EXPECT(trust_tree());
    snprintf(p, sizeof p, "%s/esc.conf", tdir);
    /* root's link to root's file: followed */
    snprintf(link, sizeof link, "%s/link.conf", tdir);
    EXPECT(symlink(p, link) == 0);
    rv_root_link = load_as_root(link, err, sizeof err);
    /* a link sitting in a directory that another user owns (it could be swapped) */
    snprintf(ud, sizeof ud, "%s/user", tdir);
    mkdir(ud, 0755);
    snprintf(link, sizeof link, "%s/user/link.conf", tdir);
    EXPECT(symlink(p, link) == 0);
    rv_link_in_users_dir =
        chown(ud, NOBODY, NOBODY) == 0 ? (int)load_as_root(link, err, sizeof err) : -1;
    /* root's link pointing into that directory */
    snprintf(p, sizeof p, "%s/user/esc.conf", tdir);
    put(p, "log_level = info\n", 0644);
    snprintf(link, sizeof link, "%s/to-user.conf", tdir);
    EXPECT(symlink(p, link) == 0);
    rv_link_to_users_dir = load_as_root(link, err, sizeof err);
    /* a link that another user owns, in root's directory */
    snprintf(link, sizeof link, "%s/users-link.conf", tdir);
    snprintf(p, sizeof p, "%s/esc.conf", tdir);
    EXPECT(symlink(p, link) == 0);
    rv_users_link =
        lchown(link, NOBODY, NOBODY) == 0 ? (int)load_as_root(link, err, sizeof err) : -1;
    rm_tree();
    EXPECT_EQ(rv_root_link, ESC_OK);
    EXPECT_EQ(rv_link_in_users_dir, ESC_ERR_CONF);
    EXPECT_EQ(rv_link_to_users_dir, ESC_ERR_CONF);
    EXPECT_EQ(rv_users_link, ESC_ERR_CONF);
}

/* Not root: the caller chooses its own file; only the type is checked. */
static void test_unprivileged_open_checks_type_only(void)
{
    char p[128], err[256] = "";
    int fd = -1, rv_user, rv_dir;

    EXPECT(trust_tree());
    snprintf(p, sizeof p, "%s/esc.conf", tdir);
    chmod(p, 0666);
    rv_user = safe_file_open(p, false, &fd, err, sizeof err);
    if (fd >= 0)
        close(fd);
    rv_dir = safe_file_open(tdir, false, &fd, err, sizeof err);
    rm_tree();
    EXPECT_EQ(rv_user, ESC_OK);
    EXPECT_EQ(rv_dir, ESC_ERR_IO);
    EXPECT(strstr(err, "not a regular file") != NULL);
}

static void test_shipped_conf(void)
{
    struct esc_conf c, d;
    char err[256] = "";
    const char *top = getenv("ESC_TOP");
    char path[512];
    snprintf(path, sizeof path, "%s/config/esc.conf", top ? top : ".");
    EXPECT_EQ(conf_load(path, &c, err, sizeof err), ESC_OK);
    conf_defaults(&d);
    /* the shipped file documents the defaults without changing them */
    EXPECT_EQ(memcmp(&c, &d, sizeof c), 0);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_all_keys);
    RUN(test_errors_name_file_and_line);
    RUN(test_host_lists);
    RUN(test_log_level_applied);
    RUN(test_files);
    RUN(test_shipped_conf);
    RUN(test_root_refuses_conf_others_can_write);
    RUN(test_root_refuses_conf_in_dir_others_can_write);
    RUN(test_root_symlink_only_through_roots_places);
    RUN(test_unprivileged_open_checks_type_only);
    return check_status();
}
