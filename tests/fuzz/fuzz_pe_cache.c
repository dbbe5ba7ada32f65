/* fuzz_pe_cache: pam_esc's decision cache file (pam_esc/pe_cache.c), as read from
 * /run/pam_esc or $XDG_RUNTIME_DIR/pam_esc. Whatever parses is in range (NUL-terminated
 * names, an ATR of 1..33 bytes, tries 1..255, a 16-bit event counter) and formats back to
 * exactly the same text. */
#include "pe_cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pe_cache_entry e;
    char out[PE_CACHE_FILE_MAX];
    size_t n;

    if (!pe_cache_parse((const char *)data, size, &e))
        return 0;
    if (strnlen(e.reader, sizeof e.reader) == sizeof e.reader ||
        strnlen(e.pcscd, sizeof e.pcscd) == sizeof e.pcscd || e.atr_len == 0 ||
        e.atr_len > PCSC_ATR_MAX || e.tries < 1 || e.tries > 255 || e.event_count > 0xFFFF)
        abort();
    n = pe_cache_format(&e, out, sizeof out);
    if (n != size || memcmp(out, data, size) != 0)
        abort();
    return 0;
}
