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
