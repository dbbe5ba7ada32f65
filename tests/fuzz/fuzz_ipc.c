/* fuzz_ipc: the hand-off protocol decoder (common/ipc.c). Every frame either decodes or is
 * refused; what decodes re-encodes to the very same bytes (fields are written in tag order,
 * which is the only order the decoder needs to accept for that property to hold only when the
 * input was itself in tag order, so the check is on a second round trip). A CARD message is
 * also turned into probe facts (ipc_card.c) and back. */
#include "ipc.h"
#include "ipc_card.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ipc_msg m, m2;
    uint8_t buf[IPC_HEADER_LEN + IPC_PAYLOAD_MAX], buf2[IPC_HEADER_LEN + IPC_PAYLOAD_MAX];
    size_t len, len2, flen;

    if (size >= IPC_HEADER_LEN && ipc_frame_len(data, &flen) == ESC_OK && flen > size)
        return 0;
    if (ipc_decode(data, size, &m) != ESC_OK)
        return 0;
    if (ipc_encode(&m, buf, sizeof buf, &len) != ESC_OK)
        abort(); /* a decoded message must be encodable */
    if (ipc_decode(buf, len, &m2) != ESC_OK)
        abort();
    if (ipc_encode(&m2, buf2, sizeof buf2, &len2) != ESC_OK || len2 != len ||
        memcmp(buf, buf2, len) != 0)
        abort();
    /* a CARD (escctl status through the agent) becomes facts or is refused; facts it gives
     * go back into a CARD that decodes to the same facts */
    if (m.type == IPC_CARD) {
        struct probe_facts f, f2;
        if (ipc_card_to_facts(&m, &f) == ESC_OK) {
            ipc_card_from_facts(&f, &m2);
            if (ipc_encode(&m2, buf2, sizeof buf2, &len2) != ESC_OK ||
                ipc_decode(buf2, len2, &m2) != ESC_OK || ipc_card_to_facts(&m2, &f2) != ESC_OK ||
                f2.state != f.state || f2.atr_len != f.atr_len ||
                memcmp(f2.atr, f.atr, f.atr_len) != 0 || strcmp(f2.reader, f.reader) != 0 ||
                f2.not_after != f.not_after || f2.pin_tries_left != f.pin_tries_left)
                abort();
        }
    }
    ipc_msg_wipe(&m);
    ipc_msg_wipe(&m2);
    return 0;
}
