/* test_secret: wiping helpers clear what they are given and nothing more, and are NULL-safe. */
#include "check.h"
#include "secret.h"

#include <stdlib.h>
#include <string.h>

static void test_wipe(void)
{
    char buf[16];
    memcpy(buf, "123456\0XYZ", 10);
    secret_wipe(buf, 6);
    for (int i = 0; i < 6; i++)
        EXPECT_EQ(buf[i], 0);
    EXPECT_MEM(buf + 7, "XYZ", 3);
    secret_wipe(NULL, 10);
    secret_wipe(buf, 0);
}

static void test_free(void)
{
    char *s = strdup("246810");
    EXPECT(s != NULL);
    secret_free_str(s);
    secret_free_str(NULL);
    secret_free(NULL, 5);
    char *p = malloc(8);
    EXPECT(p != NULL);
    memcpy(p, "secret!", 8);
    secret_free(p, 8);
}

int main(void)
{
    RUN(test_wipe);
    RUN(test_free);
    return check_status();
}
