/* fuzz_phone_home: the phone-home ServiceInfo parser (libxml2) on hostile documents. Every
 * string it keeps must be NUL-terminated printable text within its field. */
#include "engine/phone_home.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ph_profile p;
    char err[256];
    if (ph_xml_parse((const char *)data, size, &p, err, sizeof err) == 0) {
        const char *fields[] = {p.issuer,       p.operation,  p.ui,         p.enrolled_browser_url,
                                p.enrolled_url, p.token_type, p.ca_chain_ui};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            for (const char *c = fields[i]; *c; c++)
                if ((unsigned char)*c < 0x20)
                    __builtin_trap();
    }
    return 0;
}
