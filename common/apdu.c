/* apdu: builders and the status-word message table (ISO 7816-4, CoolKey 9Cxx from
 * coolkey-card.md §2.4, GlobalPlatform card-manager codes). */
#include "apdu.h"

#include <string.h>

esc_err apdu_build(struct apdu *a, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
                   const uint8_t *data, size_t dlen, int le)
{
    size_t n = 0;

    if (!a || dlen > 255 || (dlen && !data) || le > 256 || le < APDU_NO_LE)
        return ESC_ERR_ARG;
    a->buf[n++] = cla;
    a->buf[n++] = ins;
    a->buf[n++] = p1;
    a->buf[n++] = p2;
    if (dlen) {
        a->buf[n++] = (uint8_t)dlen;
        memcpy(a->buf + n, data, dlen);
        n += dlen;
    }
    if (le != APDU_NO_LE)
        a->buf[n++] = (uint8_t)(le & 0xFF); /* 256 -> 00 */
    a->len = n;
    return ESC_OK;
}

uint16_t apdu_sw(const uint8_t *resp, size_t len)
{
    if (!resp || len < 2)
        return 0;
    return (uint16_t)((resp[len - 2] << 8) | resp[len - 1]);
}

struct sw_row {
    uint16_t sw;
    const char *msg;
};

static const struct sw_row sw_table[] = {
    {0x9000, "Success"},
    /* ISO 7816-4 / GlobalPlatform */
    {0x6200, "Warning: state of non-volatile memory unchanged"},
    {0x6283, "Warning: selected application or card is locked"},
    {0x6300, "Authentication of the host cryptogram failed"},
    {0x6310, "More data available"},
    {0x6400, "Execution error: state of non-volatile memory unchanged"},
    {0x6581, "Memory failure"},
    {0x6700, "Wrong length"},
    {0x6881, "Logical channel not supported"},
    {0x6882, "Secure messaging not supported"},
    {0x6982, "Security status not satisfied"},
    {0x6983, "Authentication method blocked"},
    {0x6984, "Referenced data invalidated"},
    {0x6985, "Conditions of use not satisfied"},
    {0x6999, "Applet selection failed"},
    {0x6A80, "Incorrect values in the command data"},
    {0x6A81, "Function not supported"},
    {0x6A82, "Application or file not found"},
    {0x6A84, "Not enough memory space"},
    {0x6A86, "Incorrect parameters P1 P2"},
    {0x6A88, "Referenced data not found"},
    {0x6B00, "Wrong parameters P1 P2"},
    {0x6D00, "Instruction not supported"},
    {0x6E00, "Class not supported"},
    {0x6F00, "No precise diagnosis"},
    /* CoolKey applet (CardEdge.java, cky_applet.h) */
    {0x9C01, "CoolKey: not enough memory on the card"},
    {0x9C02, "CoolKey: authentication failed (wrong PIN)"},
    {0x9C03, "CoolKey: operation not allowed"},
    {0x9C05, "CoolKey: unsupported feature"},
    {0x9C06, "CoolKey: not authorized (log in first)"},
    {0x9C07, "CoolKey: object not found"},
    {0x9C08, "CoolKey: object already exists"},
    {0x9C09, "CoolKey: incorrect algorithm"},
    {0x9C0B, "CoolKey: signature invalid"},
    {0x9C0C, "CoolKey: identity blocked (PIN locked)"},
    {0x9C0D, "CoolKey: unspecified error"},
    {0x9C0F, "CoolKey: invalid parameter"},
    {0x9C10, "CoolKey: incorrect P1"},
    {0x9C11, "CoolKey: incorrect P2"},
    {0x9C12, "CoolKey: end of sequence"},
    {0x9C13, "CoolKey: unsupported direction"},
    {0x9C14, "CoolKey: invalid direction"},
    {0x9C15, "CoolKey: unsupported data location"},
    {0x9C16, "CoolKey: invalid data location"},
    {0x9C17, "CoolKey: unsupported key type"},
    {0x9C18, "CoolKey: invalid key type"},
    {0x9C19, "CoolKey: wrong data chunk size"},
    {0x9C1A, "CoolKey: wrong key size"},
    {0x9C1B, "CoolKey: unsupported cipher mode"},
    {0x9C1C, "CoolKey: invalid cipher mode"},
    {0x9C1D, "CoolKey: output buffer too small"},
    {0x9C1E, "CoolKey: inconsistent key pairing"},
    {0x9C1F, "CoolKey: input buffer too small"},
    {0x9C20, "CoolKey: bad wrapped key"},
    {0x9C21, "CoolKey: bad algorithm for the key"},
    {0x9C22, "CoolKey: bad wrapped private key"},
    {0x9CFF, "CoolKey: internal error"},
};

const char *apdu_sw_message(uint16_t sw)
{
    for (size_t i = 0; i < sizeof sw_table / sizeof sw_table[0]; i++)
        if (sw_table[i].sw == sw)
            return sw_table[i].msg;
    switch (sw >> 8) {
    case 0x61:
        return "More response data available";
    case 0x63:
        return (sw & 0xF0) == 0xC0 ? "Verification failed; the low digit counts the tries left"
                                   : "Warning: state of non-volatile memory changed";
    case 0x6C:
        return "Wrong expected length; the card says which";
    case 0x9C:
        return "CoolKey: unknown applet error";
    default:
        return "Unknown status word";
    }
}

esc_err apdu_sw_err(uint16_t sw)
{
    switch (sw) {
    case 0x9000:
        return ESC_OK;
    case 0x9C0C:
    case 0x6983:
        return ESC_ERR_PIN_LOCKED;
    case 0x9C02:
        return ESC_ERR_PIN_INCORRECT;
    case 0x9C07:
    case 0x6A82:
    case 0x6A88:
        return ESC_ERR_NOT_FOUND;
    default:
        if ((sw & 0xFFF0) == 0x63C0)
            return (sw & 0x0F) ? ESC_ERR_PIN_INCORRECT : ESC_ERR_PIN_LOCKED;
        if (sw < 0x6000 || (sw >= 0x7000 && sw < 0x9000) || (sw > 0x9000 && sw < 0x9C00) ||
            sw > 0x9CFF)
            return ESC_ERR_CARD_GARBAGE; /* not a status word at all */
        return ESC_ERR_CARD_SW;
    }
}
