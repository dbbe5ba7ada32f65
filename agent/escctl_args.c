/* escctl_args: option values several escctl commands share. See escctl.h. */
#include "escctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int escctl_parse_timeout(const char *cmd, const char *arg, unsigned long *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || v == 0 || v > ESCCTL_TIMEOUT_MAX_MS) {
        fprintf(stderr, "escctl %s: --timeout needs milliseconds, 1..%lu\n", cmd,
                (unsigned long)ESCCTL_TIMEOUT_MAX_MS);
        return ESCCTL_EXIT_USAGE;
    }
    *out = v;
    return ESCCTL_EXIT_OK;
}
