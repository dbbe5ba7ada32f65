/* fuzz_tps_z0: the reference TPS's reader of a card's z0 object (tests/tps/tpsd_z0read.c),
 * which renew and token adoption feed with bytes read from the card. */
#include <stddef.h>
#include <stdint.h>

#include "tpsd_z0read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tpsd_z0 z;
    if (tpsd_z0_parse(data, size, &z) == 0) {
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < z.n_certs; i++)
            if (z.certs[i].der_len)
                sink ^= z.certs[i].der[z.certs[i].der_len - 1];
        (void)sink;
        tpsd_z0_free(&z);
    }
    return 0;
}
