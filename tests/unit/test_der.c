/* test_der: the bounded X.509 reader against certificates made by openssl (UTCTime and
 * GeneralizedTime, expired and valid), against openssl's own reading of notAfter, and
 * against truncated and corrupted input. */
#include "check.h"
#include "der.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char dir[] = "/tmp/test_der.XXXXXX";

/* Make a self-signed certificate valid `days` days from `when` (faketime date or NULL for
 * now); DER into buf. Returns its length, 0 on failure. Also returns openssl's notAfter. */
static size_t make_cert(const char *when, long days, const char *subj, uint8_t *buf, size_t cap,
                        int64_t *openssl_not_after)
{
    char cmd[1024], path[256], line[256];
    size_t n;
    FILE *f;
    struct tm tm;

    snprintf(path, sizeof path, "%s/c.der", dir);
    snprintf(cmd, sizeof cmd,
             "%s%s%s openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout %s/k.pem -subj '%s' -days %ld -outform DER -out %s 2>/dev/null",
             when ? "faketime '" : "", when ? when : "", when ? "'" : "", dir, subj, days, path);
    if (system(cmd) != 0)
        return 0;
    f = fopen(path, "rb");
    if (!f)
        return 0;
    n = fread(buf, 1, cap, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "openssl x509 -inform DER -in %s -noout -enddate", path);
    f = popen(cmd, "r");
    if (!f || !fgets(line, sizeof line, f)) {
        if (f)
            pclose(f);
        return 0;
    }
    pclose(f);
    memset(&tm, 0, sizeof tm);
    if (!strptime(line, "notAfter=%b %d %H:%M:%S %Y GMT", &tm))
        return 0;
    *openssl_not_after = timegm(&tm);
    return n;
}

static void test_time_formats(void)
{
    int64_t t;
    EXPECT_EQ(der_parse_time(0x17, (const uint8_t *)"700101000000Z", 13, &t), ESC_OK);
    EXPECT_EQ(t, 0);
    EXPECT_EQ(der_parse_time(0x17, (const uint8_t *)"491231235959Z", 13, &t), ESC_OK);
    EXPECT_EQ(t, 2524607999); /* 2049-12-31T23:59:59Z: YY < 50 is 20YY */
    EXPECT_EQ(der_parse_time(0x17, (const uint8_t *)"500101000000Z", 13, &t), ESC_OK);
    EXPECT_EQ(t, -631152000); /* 1950 */
    EXPECT_EQ(der_parse_time(0x18, (const uint8_t *)"20500101000000Z", 15, &t), ESC_OK);
    EXPECT_EQ(t, 2524608000);
    EXPECT_EQ(der_parse_time(0x18, (const uint8_t *)"20000229120000.5Z", 17, &t), ESC_OK);
    EXPECT_EQ(t, 951825600);
    EXPECT_EQ(der_parse_time(0x17, (const uint8_t *)"0001010000Z", 11, &t),
              ESC_OK); /* no seconds */
    EXPECT_EQ(t, 946684800);
    /* rejected */
    EXPECT_EQ(der_parse_time(0x17, (const uint8_t *)"700101000000", 12, &t), ESC_ERR_BAD_CERT);
    EXPECT_EQ(der_parse_time(0x17, (const uint8_t *)"701301000000Z", 13, &t), ESC_ERR_BAD_CERT);
    EXPECT_EQ(der_parse_time(0x17, (const uint8_t *)"010229000000Z", 13, &t), ESC_ERR_BAD_CERT);
    EXPECT_EQ(der_parse_time(0x17, (const uint8_t *)"7001010000+0Z", 13, &t), ESC_ERR_BAD_CERT);
    EXPECT_EQ(der_parse_time(0x18, (const uint8_t *)"2000010100000.Z", 15, &t), ESC_ERR_BAD_CERT);
    EXPECT_EQ(der_parse_time(0x04, (const uint8_t *)"700101000000Z", 13, &t), ESC_ERR_BAD_CERT);
    EXPECT_EQ(der_parse_time(0x17, (const uint8_t *)"Z", 1, &t), ESC_ERR_BAD_CERT);
}

static void test_expired_utctime_cert(void)
{
    uint8_t der[4096];
    int64_t ossl = 0;
    struct der_cert_info ci;
    size_t n =
        make_cert("2001-01-01 00:00:00", 30, "/O=Example/CN=Old User", der, sizeof der, &ossl);
    if (!n)
        SKIP("openssl/faketime could not make a certificate");
    EXPECT_EQ(der_cert_parse(der, n, &ci), ESC_OK);
    EXPECT_EQ(ci.not_after, ossl);
    EXPECT(ci.not_after < 981000000 && ci.not_after > 980800000); /* ~2001-01-31 */
    EXPECT(ci.not_after < (int64_t)time(NULL));
    EXPECT_STR(ci.subject, "CN=Old User, O=Example");
    EXPECT_STR(ci.issuer, "CN=Old User, O=Example");
}

static void test_generalizedtime_cert(void)
{
    uint8_t der[4096];
    int64_t ossl = 0;
    struct der_cert_info ci;
    /* more than 2049 -> notAfter is a GeneralizedTime (RFC 5280) */
    size_t n = make_cert(NULL, 365L * 40, "/C=US/O=Example/OU=People/CN=John Smith", der,
                         sizeof der, &ossl);
    if (!n)
        SKIP("openssl could not make a certificate");
    EXPECT_EQ(der_cert_parse(der, n, &ci), ESC_OK);
    EXPECT_EQ(ci.not_after, ossl);
    EXPECT(ci.not_after > 2524608000); /* after 2050 */
    EXPECT(ci.not_before <= (int64_t)time(NULL));
    EXPECT_STR(ci.subject, "CN=John Smith, OU=People, O=Example, C=US");
}

static void test_truncated_and_corrupt(void)
{
    uint8_t der[4096], bad[4096];
    int64_t ossl = 0;
    struct der_cert_info ci;
    size_t n = make_cert(NULL, 10, "/CN=T", der, sizeof der, &ossl);
    if (!n)
        SKIP("openssl could not make a certificate");
    /* every truncation fails cleanly */
    for (size_t len = 0; len < n; len++)
        EXPECT_EQ(der_cert_parse(der, len, &ci), ESC_ERR_BAD_CERT);
    /* padding after the certificate (card objects are padded) is fine */
    memcpy(bad, der, n);
    memset(bad + n, 0, 100);
    EXPECT_EQ(der_cert_parse(bad, n + 100, &ci), ESC_OK);
    /* flipping any single byte never crashes (the result may or may not parse) */
    for (size_t i = 0; i < n; i++) {
        memcpy(bad, der, n);
        bad[i] ^= 0xFF;
        (void)der_cert_parse(bad, n, &ci);
    }
    /* huge length claims */
    static const uint8_t big[] = {0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x30, 0x00};
    EXPECT_EQ(der_cert_parse(big, sizeof big, &ci), ESC_ERR_BAD_CERT);
    static const uint8_t indef[] = {0x30, 0x80, 0x30, 0x80, 0x00, 0x00, 0x00, 0x00};
    EXPECT_EQ(der_cert_parse(indef, sizeof indef, &ci), ESC_ERR_BAD_CERT);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(test_time_formats);
    RUN(test_expired_utctime_cert);
    RUN(test_generalizedtime_cert);
    RUN(test_truncated_and_corrupt);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return check_status();
}
