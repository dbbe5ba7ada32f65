/* secret: wiping helpers for PINs, passwords and keys. */
#include "secret.h"

#include <stdlib.h>
#include <string.h>

void secret_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

void secret_free(void *p, size_t n)
{
    if (!p)
        return;
    secret_wipe(p, n);
    free(p);
}

void secret_free_str(char *s)
{
    if (s)
        secret_free(s, strlen(s));
}

char *secret_strndup(const char *s, size_t max)
{
    size_t n;
    char *d;

    if (!s)
        return NULL;
    n = strnlen(s, max);
    d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}
