/* fuzz_der: the bounded X.509 reader (validity, names) and the time parser. */
#include "der.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct der_cert_info ci;
    int64_t t;

    if (der_cert_parse(data, size, &ci) == ESC_OK) {
        if (strlen(ci.subject) >= sizeof ci.subject || strlen(ci.issuer) >= sizeof ci.issuer)
            __builtin_trap();
    }
    if (size > 0)
        (void)der_parse_time(data[0] & 1 ? 0x17 : 0x18, data + 1, size - 1, &t);
    return 0;
}
