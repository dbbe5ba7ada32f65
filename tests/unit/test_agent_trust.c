/* test_agent_trust: the URL policy refuses what a forged card could point at. */
#include "check.h"
#include "trust.h"

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

int main(void)
{
    RUN(test_allowed_https);
    RUN(test_refusals);
    RUN(test_ports);
    return check_status();
}
