/* apdu: command APDU builders and the one status-word message table.
 * Short APDUs only (Lc <= 255, Le <= 256), as the CoolKey applet and coolkey use them. */
#ifndef ESC_APDU_H
#define ESC_APDU_H

#include "esc_err.h"

#include <stddef.h>
#include <stdint.h>

#define APDU_CMD_MAX 261 /* 4 header + Lc + 255 data + Le */
#define APDU_NO_LE   (-1)

struct apdu {
    uint8_t buf[APDU_CMD_MAX];
    size_t len;
};

/* Build CLA INS P1 P2 [Lc data] [Le]; le = APDU_NO_LE for none, 0..256 (256 encoded as 00).
 * Case 2 with data==NULL/dlen==0 and le>=0 gives P3 = Le. ESC_ERR_ARG if dlen > 255. */
esc_err apdu_build(struct apdu *a, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
                   const uint8_t *data, size_t dlen, int le);

/* Status word of a response (last two bytes); 0 if len < 2. */
uint16_t apdu_sw(const uint8_t *resp, size_t len);

/* One sentence for a status word (ISO 7816-4, CoolKey 9Cxx, GlobalPlatform), never NULL. */
const char *apdu_sw_message(uint16_t sw);

/* esc_err for a status word: 9000 -> ESC_OK; 9C0C/6983 -> ESC_ERR_PIN_LOCKED;
 * 9C02/63Cx -> ESC_ERR_PIN_INCORRECT; 9C07/6A82/6A88 -> ESC_ERR_NOT_FOUND; other ->
 * ESC_ERR_CARD_SW. */
esc_err apdu_sw_err(uint16_t sw);

#endif
