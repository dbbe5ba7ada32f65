/* fuzz_vcard_state: the virtual card's state file parser (vc_state_parse) on arbitrary text. */
#include <stdlib.h>
#include <string.h>

#include "vc_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vc_card c;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    (void)vc_state_parse(&c, text);
    vc_card_free(&c);
    free(text);
    return 0;
}
