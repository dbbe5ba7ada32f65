/* test_agent_trust: the URL policy refuses what a forged card could point at. */
#include "check.h"
#include "conf.h"
#include "engine/trust.h"

static void test_allowed_https(void)
{
    char err[256];
    EXPECT_EQ(trust_check_url("https://tps.example.com:8443/tps/tps", "tps.example.com", "", err,
                              sizeof err),
              TRUST_OK);
    EXPECT_EQ(trust_check_url("https://TPS.Example.COM/tps/tps", "a.b, tps.example.com", NULL, err,
                              sizeof err),
              TRUST_OK);
    EXPECT_EQ(trust_check_url("https://x.corp.example/tps", "*.corp.example", "", err, sizeof err),
              TRUST_OK);
}

static void test_refusals(void)
{
    char err[256];
    EXPECT_EQ(
        trust_check_url("https://evil.example.org/tps/tps", "tps.example.com", "", err, sizeof err),
        TRUST_HOST_NOT_ALLOWED);
    EXPECT(strstr(err, "evil.example.org") != NULL);
    EXPECT_EQ(trust_check_url("https://tps.example.com.evil.org/", "tps.example.com", "", err,
                              sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(trust_check_url("https://corp.example/", "*.corp.example", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(trust_check_url("http://tps.example.com/tps", "tps.example.com", "", err, sizeof err),
              TRUST_HTTP_NOT_ALLOWED);
    EXPECT(strstr(err, "https") != NULL);
    EXPECT_EQ(trust_check_url("http://tps.example.com/tps", "tps.example.com", "tps.example.com",
                              err, sizeof err),
              TRUST_OK);
    EXPECT_EQ(trust_check_url("https://tps.example.com/", "", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(trust_check_url("https://tps.example.com/", NULL, NULL, err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(trust_check_url("ftp://tps.example.com/", "tps.example.com", "", err, sizeof err),
              TRUST_BAD_URL);
    EXPECT_EQ(
        trust_check_url("https://user:pw@tps.example.com/", "tps.example.com", "", err, sizeof err),
        TRUST_BAD_URL);
    EXPECT_EQ(trust_check_url("not a url", "tps.example.com", "", err, sizeof err), TRUST_BAD_URL);
}

static void test_ports(void)
{
    char err[256];
    EXPECT_EQ(trust_check_url("https://h:8443/", "h:8443", "", err, sizeof err), TRUST_OK);
    EXPECT_EQ(trust_check_url("https://h:9443/", "h:8443", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(trust_check_url("https://h/", "h:443", "", err, sizeof err), TRUST_OK);
    EXPECT_EQ(trust_check_url("http://[::1]:8080/", "[::1]", "[::1]:8080", err, sizeof err),
              TRUST_OK);
    EXPECT_EQ(
        trust_check_url("http://127.0.0.1:8080/", "127.0.0.1", "127.0.0.1:80", err, sizeof err),
        TRUST_HTTP_NOT_ALLOWED);
}

/* What esc.conf accepts is what the check applies: a wildcard covers one or more labels, a
 * list may be separated by commas (regression: conf.c refused both while trust.c took them). */
static void test_conf_lists_are_what_trust_applies(void)
{
    static const char text[] = "allowed_hosts = *.corp.example, tps.example.org:8443,[::1]\n"
                               "allow_http_hosts = *.lab.corp.example\n";
    struct esc_conf c;
    char err[256] = "";
    conf_defaults(&c);
    EXPECT_EQ(conf_parse(text, strlen(text), "t.conf", &c, err, sizeof err), ESC_OK);
    EXPECT_EQ(trust_check_url("https://x.corp.example/tps", c.allowed_hosts, c.allow_http_hosts,
                              err, sizeof err),
              TRUST_OK);
    EXPECT_EQ(trust_check_url("https://a.b.Corp.Example/tps", c.allowed_hosts, c.allow_http_hosts,
                              err, sizeof err),
              TRUST_OK);
    EXPECT_EQ(trust_check_url("https://corp.example/", c.allowed_hosts, c.allow_http_hosts, err,
                              sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(trust_check_url("https://evilcorp.example/", c.allowed_hosts, c.allow_http_hosts, err,
                              sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(trust_check_url("https://x.corp.example.evil.org/", c.allowed_hosts,
                              c.allow_http_hosts, err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(trust_check_url("https://tps.example.org:8443/", c.allowed_hosts, c.allow_http_hosts,
                              err, sizeof err),
              TRUST_OK);
    EXPECT_EQ(trust_check_url("https://tps.example.org/", c.allowed_hosts, c.allow_http_hosts, err,
                              sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(trust_check_url("https://[::1]:9443/", c.allowed_hosts, c.allow_http_hosts, err,
                              sizeof err),
              TRUST_OK);
    EXPECT_EQ(trust_check_url("http://h1.lab.corp.example/", c.allowed_hosts, c.allow_http_hosts,
                              err, sizeof err),
              TRUST_OK);
    EXPECT_EQ(trust_check_url("http://x.corp.example/", c.allowed_hosts, c.allow_http_hosts, err,
                              sizeof err),
              TRUST_HTTP_NOT_ALLOWED);
}

/* An entry esc.conf would refuse allows nothing, even if handed to the check directly. */
static void test_bad_entries_allow_nothing(void)
{
    char err[256];
    EXPECT_EQ(trust_check_url("https://127.0.0.1/", "*.0.0.1", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(trust_check_url("https://a.example.com/", "*", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(trust_check_url("https://a.example.com/", "a*.example.com", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(trust_check_url("https://a.example.com/", "a.example.com:0", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(trust_check_url("https://a.example.com/", "a.example.com;b", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
}

int main(void)
{
    RUN(test_allowed_https);
    RUN(test_refusals);
    RUN(test_ports);
    RUN(test_conf_lists_are_what_trust_applies);
    RUN(test_bad_entries_allow_nothing);
    return check_status();
}
