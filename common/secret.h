/* secret: helpers to wipe PINs, passwords and keys after use. */
#ifndef ESC_SECRET_H
#define ESC_SECRET_H

#include <stddef.h>

/* explicit_bzero that the compiler cannot drop; NULL-safe. */
void secret_wipe(void *p, size_t n);
/* Wipe a NUL-terminated string (up to its NUL) and free it; NULL-safe. */
void secret_free_str(char *s);
/* Wipe n bytes then free; NULL-safe. */
void secret_free(void *p, size_t n);

#endif
