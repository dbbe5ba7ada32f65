/* fuzz_ck_parse: the CoolKey reply parsers (GET STATUS, LIFE CYCLE, CPLC, LIST OBJECTS
 * entry, ISSUER INFO) and the status-word table on hostile card replies. The first byte
 * picks the parser. */
#include "apdu.h"
#include "coolkey.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ck_status st;
    struct ck_life_cycle lc;
    struct ck_cplc cplc;
    struct ck_object_info oi;
    char url[CK_ISSUER_INFO_LEN + 1], hex[2 * CK_CUID_LEN + 1];

    if (size < 1)
        return 0;
    switch (data[0] % 6) {
    case 0:
        (void)ck_parse_status(data + 1, size - 1, &st);
        break;
    case 1:
        (void)ck_parse_life_cycle(data + 1, size - 1, &lc);
        break;
    case 2:
        if (ck_parse_cplc(data + 1, size - 1, &cplc) == ESC_OK)
            ck_cuid_hex(cplc.cuid, hex);
        break;
    case 3:
        (void)ck_parse_list_entry(data + 1, size - 1, &oi);
        break;
    case 4:
        if (ck_parse_issuer_info(data + 1, size - 1, url, sizeof url) == ESC_OK &&
            strlen(url) >= sizeof url)
            __builtin_trap();
        break;
    default: {
        uint16_t sw = apdu_sw(data + 1, size - 1);
        (void)strlen(apdu_sw_message(sw));
        (void)apdu_sw_err(sw);
        break;
    }
    }
    return 0;
}
