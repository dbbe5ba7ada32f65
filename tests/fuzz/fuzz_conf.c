/* fuzz_conf: the esc.conf parser on arbitrary bytes. */
#include "conf.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct esc_conf c;
    char err[256];

    conf_defaults(&c);
    (void)conf_parse((const char *)data, size, "fuzz.conf", &c, err, sizeof err);
    if (strnlen(c.phone_home_url, sizeof c.phone_home_url) == sizeof c.phone_home_url ||
        strnlen(c.reader, sizeof c.reader) == sizeof c.reader ||
        strnlen(err, sizeof err) == sizeof err)
        __builtin_trap();
    return 0;
}
