/* fuzz_udev_seat: the udev database record parser (ID_SEAT) on arbitrary bytes. */
#include "seat.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char seat[SEAT_NAME_MAX], small[6];

    if (seat_udev_parse((const char *)data, size, seat, sizeof seat) &&
        (strnlen(seat, sizeof seat) == sizeof seat || !seat[0] || strchr(seat, '/')))
        __builtin_trap();
    (void)seat_udev_parse((const char *)data, size, small, sizeof small);
    if (strnlen(small, sizeof small) == sizeof small)
        __builtin_trap();
    return 0;
}
