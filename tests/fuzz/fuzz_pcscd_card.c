/* fuzz_pcscd_card: what a "pcscd" says to common/pcscd_card.c, arbitrary bytes as its whole
 * side of a session: the version check, a context, the readers, a connect, a transaction with
 * APDUs (one at a time, behind the BEGIN and alone, and batched), the status, an attribute, the
 * close. The bytes are queued on a socket pair and then its end is shut, so each step ends at once
 * (answer or end of stream). No answer may be believed beyond what was asked for: every response
 * length within its buffer, every reader name NUL-terminated. */
#include "pcscd_card.h"

#include "clock.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_readers(const struct pcsc_reader *r, size_t n, size_t max)
{
    if (n > max)
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if (strnlen(r[i].name, sizeof r[i].name) == sizeof r[i].name || r[i].atr_len > PCSC_ATR_MAX)
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t sel[] = {0x00, 0xA4, 0x04, 0x00, 0x07, 0x62,
                                  0x76, 0x01, 0xFF, 0x00, 0x00, 0x00};
    static const uint8_t get[] = {0xB0, 0x4A, 0x00, 0x00, 0x01};
    static uint8_t resp[2][PCSC_RESP_MAX];
    struct pcsc_reader r[PCSC_MAX_READERS];
    size_t n = 0, rlen[2], len = 0;
    uint8_t small[8], attr[8];
    pcscd_card *s = NULL;
    int sv[2];

    if (size > 60000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 0;
    if (size && write(sv[1], data, size) != (ssize_t)size) {
        close(sv[0]);
        close(sv[1]);
        return 0;
    }
    shutdown(sv[1], SHUT_WR); /* what we send is still taken, and never read */
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    if (pcscd_card_open_fd(&s, sv[0], esc_mono_ms() + 2000, r, PCSC_MAX_READERS, &n) == ESC_OK) {
        check_readers(r, n, PCSC_MAX_READERS);
        (void)pcscd_card_connect(s, "Reader 00 00", size > 0 && (data[0] & 1));
        (void)pcscd_card_begin(s);
        if (pcscd_card_transmit(s, get, sizeof get, small, sizeof small, &len) == ESC_OK &&
            len > sizeof small)
            __builtin_trap();
        /* nothing due any more: this one's answer is awaited (pcscd_wire_await) */
        if (pcscd_card_transmit(s, sel, sizeof sel, small, sizeof small, &len) == ESC_OK &&
            len > sizeof small)
            __builtin_trap();
        (void)pcscd_card_status(s);
        if (pcscd_card_attrib(s, 0x00020110, attr, sizeof attr, &len) == ESC_OK &&
            len > sizeof attr)
            __builtin_trap();
        if (pcscd_card_readers(s, r, 3, &n) == ESC_OK)
            check_readers(r, n, 3);
        (void)pcscd_card_end(s);
        (void)pcscd_card_connect(s, "Reader 00 00", false);
        if (pcscd_card_batch(s, 2, (const uint8_t *const[]){sel, get},
                             (const size_t[]){sizeof sel, sizeof get}, resp, rlen) == ESC_OK &&
            (rlen[0] > PCSC_RESP_MAX || rlen[1] > PCSC_RESP_MAX))
            __builtin_trap();
        pcscd_card_close(s);
    }
    close(sv[1]);
    return 0;
}
