/* escctl_text: how escctl writes text that came from outside (the card, the TPS, the phone-home
 * server) to a terminal or into JSON. See escctl_text.h. */
#include "escctl_text.h"

/* Length of a valid UTF-8 sequence at p (1..4), or 0. */
static size_t utf8_seq(const unsigned char *p)
{
    size_t n;
    unsigned cp;
    if (p[0] < 0xC2 || p[0] > 0xF4)
        return 0;
    n = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : 2;
    cp = p[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void escctl_json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    fputc('"', f);
    while (*p) {
        size_t n;
        if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p++);
        } else if (*p < 0x20 || *p == 0x7F) {
            fprintf(f, "\\u%04x", *p++);
        } else if (*p < 0x80) {
            fputc(*p++, f);
        } else if ((n = utf8_seq(p)) != 0) {
            fwrite(p, 1, n, f);
            p += n;
        } else {
            fputs("\\ufffd", f);
            p++;
        }
    }
    fputc('"', f);
}

void escctl_put_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p < 0x20 || *p == 0x7F)
            fprintf(f, "\\x%02X", *p);
        else
            fputc(*p, f);
    }
}
