/* fuzz_z0_parse: the z0 object reader (header, bounded inflate, record walk) and the DER
 * reader on every certificate it finds. */
#include "der.h"
#include "z0_parse.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct z0_contents c;
    struct der_cert_info ci;

    if (z0_parse(data, size, &c) != ESC_OK)
        return 0;
    for (size_t i = 0; i < c.ncerts; i++) {
        if (c.certs[i].der < c.data || c.certs[i].der + c.certs[i].der_len > c.data + c.data_len)
            __builtin_trap();
        (void)der_cert_parse(c.certs[i].der, c.certs[i].der_len, &ci);
    }
    z0_free(&c);
    return 0;
}
