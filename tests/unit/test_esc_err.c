/* test_esc_err: the one error model (common/esc_err.h). Every code has a stable name (logs,
 * JSON, events) and one sentence a user can read; names are unique; each code belongs to the
 * class pam_esc maps to a PAM code; the detail buffer is written safely. */
#include "check.h"
#include "esc_err.h"

#include <ctype.h>
#include <string.h>

static void test_every_code_has_a_name_and_a_sentence(void)
{
    for (int e = 0; e < ESC_ERR__COUNT; e++) {
        const char *n = esc_err_name((esc_err)e), *m = esc_strerror((esc_err)e);
        EXPECT(strcmp(n, "UNKNOWN") != 0);
        EXPECT(strcmp(m, "Unknown error") != 0);
        EXPECT(isupper((unsigned char)m[0])); /* a sentence ... */
        EXPECT(m[strlen(m) - 1] != '.');      /* ... that callers end themselves */
        for (const char *p = n; *p; p++)
            EXPECT(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_');
        for (int f = 0; f < e; f++)
            EXPECT(strcmp(n, esc_err_name((esc_err)f)) != 0);
    }
}

static void test_unknown_codes(void)
{
    EXPECT_STR(esc_err_name(ESC_ERR__COUNT), "UNKNOWN");
    EXPECT_STR(esc_strerror((esc_err)-1), "Unknown error");
    EXPECT_EQ(esc_err_class((esc_err)999), ESC_CLASS_SYSTEM);
}

/* the codes the engine folds its results into keep their class (pam_esc's PAM mapping) */
static void test_classes(void)
{
    EXPECT_EQ(esc_err_class(ESC_OK), ESC_CLASS_OK);
    EXPECT_EQ(esc_err_class(ESC_ERR_NO_CARD), ESC_CLASS_ABSENT);
    EXPECT_EQ(esc_err_class(ESC_ERR_PCSC), ESC_CLASS_CARD);
    EXPECT_EQ(esc_err_class(ESC_ERR_CANCELLED), ESC_CLASS_USER);
    EXPECT_EQ(esc_err_class(ESC_ERR_AUTH_FAILED), ESC_CLASS_USER);
    EXPECT_EQ(esc_err_class(ESC_ERR_UNTRUSTED_HOST), ESC_CLASS_SERVER);
    EXPECT_EQ(esc_err_class(ESC_ERR_NETWORK), ESC_CLASS_SERVER);
    EXPECT_EQ(esc_err_class(ESC_ERR_TLS), ESC_CLASS_SERVER);
    EXPECT_EQ(esc_err_class(ESC_ERR_SERVER), ESC_CLASS_SERVER);
    EXPECT_EQ(esc_err_class(ESC_ERR_TPS_REFUSED), ESC_CLASS_SERVER);
    EXPECT_EQ(esc_err_class(ESC_ERR_TPS_TIMEOUT), ESC_CLASS_SERVER);
    EXPECT_EQ(esc_err_class(ESC_ERR_TIMEOUT), ESC_CLASS_SYSTEM); /* the caller's own deadline */
    EXPECT_EQ(esc_err_class(ESC_ERR_PROTOCOL), ESC_CLASS_SYSTEM);
    EXPECT_EQ(esc_err_class(ESC_ERR_CONF), ESC_CLASS_SYSTEM);
}

static void test_detail_buffer(void)
{
    char b[8];
    esc_seterr(NULL, 10, "%s", "x"); /* no buffer: nothing happens */
    memcpy(b, "keep", 5);
    esc_seterr(b, 0, "%s", "x");
    EXPECT_STR(b, "keep");
    esc_seterr(b, sizeof b, "host %s refused", "evil.example.org");
    EXPECT_STR(b, "host ev"); /* cut, always terminated */
}

int main(void)
{
    RUN(test_every_code_has_a_name_and_a_sentence);
    RUN(test_unknown_codes);
    RUN(test_classes);
    RUN(test_detail_buffer);
    return check_status();
}
