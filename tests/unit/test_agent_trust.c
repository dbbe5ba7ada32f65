/* test_agent_trust: the URL policy refuses what a forged card could point at. */
#include "check.h"
#include "conf.h"
#include "engine/trust.h"

/* The rule that refused a URL, told by the fix trust_check_url gives with it. */
enum { TRUST_OK, TRUST_BAD_URL, TRUST_HOST_NOT_ALLOWED, TRUST_HTTP_NOT_ALLOWED };

static int verdict(const char *url, const char *allowed, const char *http, char *err, size_t errlen)
{
    const char *fix = "unset";
    struct trust_policy t = {.allowed_hosts = allowed, .allow_http_hosts = http};
    esc_err e = trust_check_url(&t, url, err, errlen, &fix);
    if (e == ESC_OK)
        return fix == NULL && err[0] == 0 ? TRUST_OK : -1;
    if (e != ESC_ERR_UNTRUSTED_HOST || !fix || !err[0])
        return -1;
    if (strstr(fix, "allow_http_hosts"))
        return TRUST_HTTP_NOT_ALLOWED;
    if (strstr(fix, "allowed_hosts"))
        return TRUST_HOST_NOT_ALLOWED;
    return strstr(fix, "correct the URL") ? TRUST_BAD_URL : -1;
}

static void test_allowed_https(void)
{
    char err[256];
    EXPECT_EQ(
        verdict("https://tps.example.com:8443/tps/tps", "tps.example.com", "", err, sizeof err),
        TRUST_OK);
    EXPECT_EQ(
        verdict("https://TPS.Example.COM/tps/tps", "a.b, tps.example.com", NULL, err, sizeof err),
        TRUST_OK);
    EXPECT_EQ(verdict("https://x.corp.example/tps", "*.corp.example", "", err, sizeof err),
              TRUST_OK);
}

static void test_refusals(void)
{
    char err[256];
    EXPECT_EQ(verdict("https://evil.example.org/tps/tps", "tps.example.com", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT(strstr(err, "evil.example.org") != NULL);
    EXPECT_EQ(verdict("https://tps.example.com.evil.org/", "tps.example.com", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(verdict("https://corp.example/", "*.corp.example", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(verdict("http://tps.example.com/tps", "tps.example.com", "", err, sizeof err),
              TRUST_HTTP_NOT_ALLOWED);
    EXPECT(strstr(err, "https") != NULL);
    EXPECT_EQ(verdict("http://tps.example.com/tps", "tps.example.com", "tps.example.com", err,
                      sizeof err),
              TRUST_OK);
    EXPECT_EQ(verdict("https://tps.example.com/", "", "", err, sizeof err), TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(verdict("https://tps.example.com/", NULL, NULL, err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(verdict("ftp://tps.example.com/", "tps.example.com", "", err, sizeof err),
              TRUST_BAD_URL);
    EXPECT_EQ(verdict("https://user:pw@tps.example.com/", "tps.example.com", "", err, sizeof err),
              TRUST_BAD_URL);
    EXPECT_EQ(verdict("not a url", "tps.example.com", "", err, sizeof err), TRUST_BAD_URL);
}

static void test_ports(void)
{
    char err[256];
    EXPECT_EQ(verdict("https://h:8443/", "h:8443", "", err, sizeof err), TRUST_OK);
    EXPECT_EQ(verdict("https://h:9443/", "h:8443", "", err, sizeof err), TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(verdict("https://h/", "h:443", "", err, sizeof err), TRUST_OK);
    EXPECT_EQ(verdict("http://[::1]:8080/", "[::1]", "[::1]:8080", err, sizeof err), TRUST_OK);
    EXPECT_EQ(verdict("http://127.0.0.1:8080/", "127.0.0.1", "127.0.0.1:80", err, sizeof err),
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
    EXPECT_EQ(
        verdict("https://x.corp.example/tps", c.allowed_hosts, c.allow_http_hosts, err, sizeof err),
        TRUST_OK);
    EXPECT_EQ(verdict("https://a.b.Corp.Example/tps", c.allowed_hosts, c.allow_http_hosts, err,
                      sizeof err),
              TRUST_OK);
    EXPECT_EQ(
        verdict("https://corp.example/", c.allowed_hosts, c.allow_http_hosts, err, sizeof err),
        TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(
        verdict("https://evilcorp.example/", c.allowed_hosts, c.allow_http_hosts, err, sizeof err),
        TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(verdict("https://x.corp.example.evil.org/", c.allowed_hosts, c.allow_http_hosts, err,
                      sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(verdict("https://tps.example.org:8443/", c.allowed_hosts, c.allow_http_hosts, err,
                      sizeof err),
              TRUST_OK);
    EXPECT_EQ(
        verdict("https://tps.example.org/", c.allowed_hosts, c.allow_http_hosts, err, sizeof err),
        TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(verdict("https://[::1]:9443/", c.allowed_hosts, c.allow_http_hosts, err, sizeof err),
              TRUST_OK);
    EXPECT_EQ(verdict("http://h1.lab.corp.example/", c.allowed_hosts, c.allow_http_hosts, err,
                      sizeof err),
              TRUST_OK);
    EXPECT_EQ(
        verdict("http://x.corp.example/", c.allowed_hosts, c.allow_http_hosts, err, sizeof err),
        TRUST_HTTP_NOT_ALLOWED);
}

/* An entry esc.conf would refuse allows nothing, even if handed to the check directly. */
static void test_bad_entries_allow_nothing(void)
{
    char err[256];
    EXPECT_EQ(verdict("https://127.0.0.1/", "*.0.0.1", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(verdict("https://a.example.com/", "*", "", err, sizeof err), TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(verdict("https://a.example.com/", "a*.example.com", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(verdict("https://a.example.com/", "a.example.com:0", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
    EXPECT_EQ(verdict("https://a.example.com/", "a.example.com;b", "", err, sizeof err),
              TRUST_HOST_NOT_ALLOWED);
}

/* No policy at all allows nothing; the policy of esc.conf is its three keys, ca_file empty:
 * the system store only. */
static void test_policy_from_conf(void)
{
    static const char text[] = "allowed_hosts = tps.example.com\n";
    struct esc_conf c;
    char err[256] = "";
    const char *fix = NULL;
    EXPECT_EQ(trust_check_url(NULL, "https://tps.example.com/", err, sizeof err, &fix),
              ESC_ERR_UNTRUSTED_HOST);
    EXPECT(fix && strstr(fix, "allowed_hosts"));
    conf_defaults(&c);
    EXPECT_EQ(conf_parse(text, strlen(text), "t.conf", &c, err, sizeof err), ESC_OK);
    struct trust_policy t = trust_policy_from_conf(&c);
    EXPECT(t.ca_file == NULL);
    EXPECT_EQ(trust_check_url(&t, "https://tps.example.com/", err, sizeof err, &fix), ESC_OK);
    EXPECT(fix == NULL);
    snprintf(c.ca_file, sizeof c.ca_file, "/etc/pki/ca.pem");
    t = trust_policy_from_conf(&c);
    EXPECT_STR(t.ca_file, "/etc/pki/ca.pem");
}

int main(void)
{
    RUN(test_allowed_https);
    RUN(test_refusals);
    RUN(test_ports);
    RUN(test_conf_lists_are_what_trust_applies);
    RUN(test_bad_entries_allow_nothing);
    RUN(test_policy_from_conf);
    return check_status();
}
