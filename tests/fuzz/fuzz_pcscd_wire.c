/* fuzz_pcscd_wire: pcscd's GET_READERS_STATE answer as common/pcscd_wire.c reads it, arbitrary
 * bytes padded or cut to the answer's size (a wrong size must be refused). Every reader given
 * back must have a NUL-terminated name, an ATR no longer than 33 bytes, an event count that
 * fits in 16 bits, and never more readers than asked for. */
#include "pcscd_wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[PCSCD_STATES_SIZE];
    struct pcsc_reader r[PCSC_MAX_READERS];
    size_t n = 0, max = size ? (size_t)(data[0] % (PCSC_MAX_READERS + 1)) : PCSC_MAX_READERS;

    if (pcscd_wire_parse(data, size, r, max, &n) !=
        (size == sizeof buf ? ESC_OK : ESC_ERR_PROTOCOL))
        __builtin_trap();
    memset(buf, 0, sizeof buf);
    memcpy(buf, data, size < sizeof buf ? size : sizeof buf);
    if (pcscd_wire_parse(buf, sizeof buf, r, max, &n) != ESC_OK || n > max)
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if (strnlen(r[i].name, sizeof r[i].name) == sizeof r[i].name || r[i].name[0] == '\0' ||
            r[i].atr_len > PCSC_ATR_MAX || r[i].event_count > 0xFFFFu ||
            (r[i].atr_len && !r[i].card_present))
            __builtin_trap();
    return 0;
}
