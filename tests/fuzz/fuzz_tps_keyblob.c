/* fuzz_tps_keyblob: the reference TPS's parser of the IO buffer after GENERATE KEY
 * (tests/tps/tpsd_keys.c tpsd_keyblob_parse): lengths, modulus, exponent, proof check. */
#include <stddef.h>
#include <stdint.h>

#include "tpsd_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t chal[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    struct tpsd_pubkey k;
    tpsd_keyblob_parse(data, size, chal, &k);
    return 0;
}
