/* check.h: the smallest unit-test harness that fits the project's runner.
 *
 * Each test is a void function; RUN(fn) prints "PASS: fn" or, at the first failed
 * EXPECT, "FAIL: fn: file:line: condition". tests/run-tests counts those lines, so a
 * test program's main() is a list of RUN() calls ending with `return check_status();`.
 * SKIP(why) records a skip with its reason and leaves the test. */
#ifndef ESC_CHECK_H
#define ESC_CHECK_H

#include <stdio.h>
#include <string.h>

static const char *check_name_;
static int check_failed_, check_skipped_, check_any_failed_;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL: %s: %s:%d: %s\n", check_name_, __FILE__, __LINE__, #cond);               \
            check_failed_ = 1;                                                                     \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define EXPECT_EQ(a, b)     EXPECT((a) == (b))
#define EXPECT_STR(a, b)    EXPECT(strcmp((a), (b)) == 0)
#define EXPECT_MEM(a, b, n) EXPECT(memcmp((a), (b), (n)) == 0)

#define SKIP(why)                                                                                  \
    do {                                                                                           \
        printf("SKIP: %s: %s\n", check_name_, (why));                                              \
        check_skipped_ = 1;                                                                        \
        return;                                                                                    \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        check_name_ = #fn;                                                                         \
        check_failed_ = check_skipped_ = 0;                                                        \
        fflush(stdout);                                                                            \
        fn();                                                                                      \
        if (check_failed_)                                                                         \
            check_any_failed_ = 1;                                                                 \
        else if (!check_skipped_)                                                                  \
            printf("PASS: %s\n", check_name_);                                                     \
        fflush(stdout);                                                                            \
    } while (0)

static inline int check_status(void)
{
    return check_any_failed_ ? 1 : 0;
}

#endif
