/* fuzz_secret_fd: the secret-from-a-descriptor reader of --password-fd / --pin-fd
 * (agent/escctl/term.c term_read_fd_secret) on any bytes through a pipe. Input: one byte for
 * the buffer size (1..256), then what the descriptor holds.
 * Invariants: success means a non-empty, NUL-terminated first line (without its newline and
 * one trailing CR) that fits the buffer; a refusal leaves no byte of the secret in the
 * buffer; a NUL byte is refused, never a secret cut short; nothing after the first newline is
 * consumed (the next reader of the descriptor gets it). */
#include "escctl/term.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char rest[8192];
    char out[257];
    int p[2];

    if (size < 1 || size > 4096) /* fits a pipe: no writer thread needed */
        return 0;
    size_t cap = (size_t)data[0] % 256 + 1;
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    if (pipe(p) < 0)
        return 0;
    if (write(p[1], in, n) != (ssize_t)n)
        abort();
    close(p[1]);
    memset(out, 0x55, sizeof out);
    int rc = term_read_fd_secret(p[0], out, cap);

    const uint8_t *nl = memchr(in, '\n', n);
    size_t line = nl ? (size_t)(nl - in) : n;
    size_t want = line;
    if (want && in[want - 1] == '\r')
        want--;
    if (rc == 0) {
        if (want == 0 || want >= cap || strnlen(out, cap) != want || memcmp(out, in, want) != 0)
            abort();
    } else {
        if (rc != -1 || (want > 0 && line < cap && memchr(in, 0, line) == NULL))
            abort(); /* a usable line was refused */
        for (size_t i = 0; i < cap && i < line; i++)
            if (out[i] != 0 && out[i] != 0x55)
                abort(); /* a refused secret is wiped */
    }
    /* what follows the first newline (or a line too long) is left for the next reader */
    if (rc == 0 || (line < cap && !memchr(in, 0, line))) {
        ssize_t r = read(p[0], rest, sizeof rest);
        size_t after = nl ? n - line - 1 : 0;
        if (r < 0 || (size_t)r != after || (after && memcmp(rest, nl + 1, after) != 0))
            abort();
    }
    close(p[0]);
    return 0;
}
