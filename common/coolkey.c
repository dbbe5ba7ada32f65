/* coolkey (ck_): CoolKey applet client; APDUs as coolkey sends them
 * (reference/coolkey-card.md §2.2, §2.4, §3, §7). Every reply is length-checked. */
#include "coolkey.h"

#include "apdu.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

#define CLA_CK              0xB0
#define INS_GET_STATUS      0x3C
#define INS_GET_LIFE_CYCLE  0xF2
#define INS_GET_ISSUER_INFO 0xF6
#define INS_GET_VERSION     0x70
#define INS_PIN_TRIES       0x4A
#define INS_LIST_OBJECTS    0x58
#define INS_READ_OBJECT     0x56
#define SW_SEQUENCE_END     0x9C12

static const uint8_t coolkey_aid[] = {0x62, 0x76, 0x01, 0xFF, 0x00, 0x00, 0x00};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static esc_err want_len(size_t got, size_t want)
{
    return got < want ? ESC_ERR_CARD_SHORT : got > want ? ESC_ERR_CARD_LONG : ESC_OK;
}

esc_err ck_parse_status(const uint8_t *d, size_t n, struct ck_status *out)
{
    esc_err rv = want_len(n, CK_STATUS_LEN);
    if (rv != ESC_OK || !d || !out)
        return rv != ESC_OK ? rv : ESC_ERR_ARG;
    out->proto_major = d[0];
    out->proto_minor = d[1];
    out->applet_major = d[2];
    out->applet_minor = d[3];
    out->total_mem = be32(d + 4);
    out->free_mem = be32(d + 8);
    out->num_pins = d[12];
    out->num_keys = d[13];
    out->logged_in = be16(d + 14);
    if (out->free_mem > out->total_mem)
        return ESC_ERR_CARD_GARBAGE;
    return ESC_OK;
}

esc_err ck_parse_life_cycle(const uint8_t *d, size_t n, struct ck_life_cycle *out)
{
    esc_err rv = want_len(n, CK_LIFE_CYCLE_LEN);
    if (rv != ESC_OK || !d || !out)
        return rv != ESC_OK ? rv : ESC_ERR_ARG;
    out->life_cycle = d[0];
    out->pin_count = d[1];
    out->proto_major = d[2];
    out->proto_minor = d[3];
    return ESC_OK;
}

esc_err ck_parse_cplc(const uint8_t *d, size_t n, struct ck_cplc *out)
{
    esc_err rv = want_len(n, CK_CPLC_LEN);
    if (rv != ESC_OK || !d || !out)
        return rv != ESC_OK ? rv : ESC_ERR_ARG;
    /* tag 9F7F, length 2A (§3) */
    if (d[0] != 0x9F || d[1] != 0x7F || d[2] != 0x2A)
        return ESC_ERR_CARD_GARBAGE;
    /* CUID = fabricator, IC type (3..6) || batch ID (19..20) || IC serial (15..18) */
    memcpy(out->cuid, d + 3, 4);
    memcpy(out->cuid + 4, d + 19, 2);
    memcpy(out->cuid + 6, d + 15, 4);
    memcpy(out->msn, d + 41, 4);
    return ESC_OK;
}

esc_err ck_parse_list_entry(const uint8_t *d, size_t n, struct ck_object_info *out)
{
    esc_err rv = want_len(n, CK_LIST_ENTRY_LEN);
    if (rv != ESC_OK || !d || !out)
        return rv != ESC_OK ? rv : ESC_ERR_ARG;
    out->id = be32(d);
    out->size = be32(d + 4);
    out->read_acl = be16(d + 8);
    out->write_acl = be16(d + 10);
    out->delete_acl = be16(d + 12);
    return ESC_OK;
}

esc_err ck_parse_issuer_info(const uint8_t *d, size_t n, char *out, size_t cap)
{
    esc_err rv = want_len(n, CK_ISSUER_INFO_LEN);
    size_t len;

    if (rv != ESC_OK)
        return rv;
    if (!d || !out || cap == 0)
        return ESC_ERR_ARG;
    out[0] = '\0';
    len = strnlen((const char *)d, n);
    for (size_t i = 0; i < len; i++)
        if (d[i] < 0x20 || d[i] > 0x7E)
            return ESC_ERR_CARD_GARBAGE;
    if (len >= cap)
        return ESC_ERR_TOO_BIG;
    memcpy(out, d, len);
    out[len] = '\0';
    return ESC_OK;
}

/* Send an APDU; data part (without SW) to data/dlen, status word to *sw. */
static esc_err exchange(pcsc_card *card, const struct apdu *a, uint8_t *data, size_t cap,
                        size_t *dlen, uint16_t *sw)
{
    uint8_t resp[PCSC_RESP_MAX];
    size_t rlen = 0;
    esc_err rv = pcsc_transmit(card, a->buf, a->len, resp, sizeof resp, &rlen);

    if (rv != ESC_OK)
        return rv;
    *sw = apdu_sw(resp, rlen);
    rlen -= 2;
    /* an error status word carries no data (ISO 7816-4); data with one is garbage */
    if (rlen && *sw != 0x9000 && (*sw >> 8) != 0x62 && (*sw >> 8) != 0x63)
        return ESC_ERR_CARD_GARBAGE;
    if (rlen > cap)
        return ESC_ERR_CARD_LONG;
    if (data && rlen)
        memcpy(data, resp, rlen);
    *dlen = rlen;
    return ESC_OK;
}

/* A case-2 command that must answer exactly `want` bytes and 9000. */
static esc_err fixed(pcsc_card *card, uint8_t ins, uint8_t p1, uint8_t *data, size_t want)
{
    uint8_t buf[PCSC_RESP_MAX];
    struct apdu a;
    size_t n = 0;
    uint16_t sw = 0;
    esc_err rv;

    apdu_build(&a, CLA_CK, ins, p1, 0x00, NULL, 0, (int)want);
    rv = exchange(card, &a, buf, sizeof buf, &n, &sw);
    if (rv != ESC_OK)
        return rv;
    if (sw != 0x9000) {
        log_debug("INS %02X: SW %04X (%s)", ins, sw, apdu_sw_message(sw));
        return apdu_sw_err(sw);
    }
    rv = want_len(n, want);
    if (rv == ESC_OK)
        memcpy(data, buf, want);
    return rv;
}

esc_err ck_select(pcsc_card *card)
{
    struct apdu a;
    size_t n = 0;
    uint16_t sw = 0;
    esc_err rv;

    apdu_build(&a, 0x00, 0xA4, 0x04, 0x00, coolkey_aid, sizeof coolkey_aid, APDU_NO_LE);
    rv = exchange(card, &a, NULL, PCSC_RESP_MAX, &n, &sw);
    if (rv != ESC_OK)
        return rv;
    if (sw != 0x9000) {
        esc_err e = apdu_sw_err(sw);
        return e == ESC_ERR_CARD_GARBAGE ? e : ESC_ERR_NO_APPLET;
    }
    /* coolkey requires exactly 9000 with no data (§1) */
    return n == 0 ? ESC_OK : ESC_ERR_CARD_LONG;
}

esc_err ck_get_status(pcsc_card *card, struct ck_status *out)
{
    uint8_t d[CK_STATUS_LEN];
    esc_err rv = fixed(card, INS_GET_STATUS, 0x00, d, sizeof d);
    return rv != ESC_OK ? rv : ck_parse_status(d, sizeof d, out);
}

esc_err ck_get_life_cycle(pcsc_card *card, struct ck_life_cycle *out)
{
    uint8_t d[CK_LIFE_CYCLE_LEN];
    esc_err rv = fixed(card, INS_GET_LIFE_CYCLE, 0x00, d, sizeof d);
    if (rv == ESC_ERR_CARD_SW) {
        /* older applets know only the 1-byte form; coolkey falls back the same way (§2.4) */
        rv = fixed(card, INS_GET_LIFE_CYCLE, 0x00, d, 1);
        if (rv == ESC_OK) {
            memset(out, 0, sizeof *out);
            out->life_cycle = d[0];
        }
        return rv;
    }
    return rv != ESC_OK ? rv : ck_parse_life_cycle(d, sizeof d, out);
}

esc_err ck_get_build_id(pcsc_card *card, uint32_t *out)
{
    uint8_t d[4];
    esc_err rv = fixed(card, INS_GET_VERSION, 0x00, d, sizeof d);
    if (rv == ESC_OK)
        *out = be32(d);
    return rv;
}

esc_err ck_get_issuer_info(pcsc_card *card, char *out, size_t cap)
{
    uint8_t d[CK_ISSUER_INFO_LEN];
    esc_err rv = fixed(card, INS_GET_ISSUER_INFO, 0x00, d, sizeof d);
    return rv != ESC_OK ? rv : ck_parse_issuer_info(d, sizeof d, out, cap);
}

esc_err ck_get_pin_tries(pcsc_card *card, uint8_t pin, uint8_t *tries)
{
    uint8_t d[1];
    esc_err rv = fixed(card, INS_PIN_TRIES, pin, d, sizeof d);
    if (rv == ESC_OK)
        *tries = d[0];
    return rv;
}

esc_err ck_pin_tries_leave(pcsc_card *card, uint8_t pin, uint8_t *tries)
{
    struct apdu sel, get;
    uint8_t resp[2][PCSC_RESP_MAX];
    size_t rlen[2] = {0, 0};
    esc_err rv;

    apdu_build(&sel, 0x00, 0xA4, 0x04, 0x00, coolkey_aid, sizeof coolkey_aid, APDU_NO_LE);
    apdu_build(&get, CLA_CK, INS_PIN_TRIES, pin, 0x00, NULL, 0, 1);
    rv = pcsc_batch_leave(card, 2, (const uint8_t *const[]){sel.buf, get.buf},
                          (const size_t[]){sel.len, get.len}, resp, rlen);
    if (rv != ESC_OK)
        return rv;
    if (apdu_sw(resp[0], rlen[0]) != 0x9000) {
        rv = apdu_sw_err(apdu_sw(resp[0], rlen[0]));
        return rv == ESC_ERR_NOT_FOUND ? ESC_ERR_NO_APPLET : ESC_ERR_CARD_SW;
    }
    if (rlen[1] != 3 || apdu_sw(resp[1], rlen[1]) != 0x9000)
        return ESC_ERR_CARD_SW;
    *tries = resp[1][0];
    return ESC_OK;
}

esc_err ck_get_cplc(pcsc_card *card, struct ck_cplc *out)
{
    static const uint8_t sel_cm[] = {0x00, 0xA4, 0x04, 0x00, 0x00};
    static const uint8_t get_cplc[] = {0x80, 0xCA, 0x9F, 0x7F, CK_CPLC_LEN};
    uint8_t resp[PCSC_RESP_MAX];
    size_t rlen = 0;
    uint16_t sw;
    esc_err rv;

    /* Select the card manager with an empty AID; like coolkey, only a transport error
     * matters here (a real CM answers FCI). */
    rv = pcsc_transmit(card, sel_cm, sizeof sel_cm, resp, sizeof resp, &rlen);
    if (rv != ESC_OK)
        return rv;
    rv = pcsc_transmit(card, get_cplc, sizeof get_cplc, resp, sizeof resp, &rlen);
    if (rv != ESC_OK)
        return rv;
    sw = apdu_sw(resp, rlen);
    if (sw != 0x9000)
        return apdu_sw_err(sw);
    return ck_parse_cplc(resp, rlen - 2, out);
}

esc_err ck_list_objects(pcsc_card *card, struct ck_object_info *out, size_t max, size_t *count)
{
    size_t n = 0;

    if (!count)
        return ESC_ERR_ARG;
    *count = 0;
    /* bound the walk: a card that never says 9C12 must not loop us forever */
    for (size_t i = 0; i <= max; i++) {
        uint8_t d[PCSC_RESP_MAX];
        struct apdu a;
        size_t dl = 0;
        uint16_t sw = 0;
        esc_err rv;

        apdu_build(&a, CLA_CK, INS_LIST_OBJECTS, i == 0 ? 0x00 : 0x01, 0x00, NULL, 0,
                   CK_LIST_ENTRY_LEN);
        rv = exchange(card, &a, d, sizeof d, &dl, &sw);
        if (rv != ESC_OK)
            return rv;
        if (sw == SW_SEQUENCE_END) {
            *count = n;
            return ESC_OK;
        }
        if (sw != 0x9000)
            return apdu_sw_err(sw);
        if (n == max)
            return ESC_ERR_TOO_BIG;
        rv = ck_parse_list_entry(d, dl, &out[n]);
        if (rv != ESC_OK)
            return rv;
        n++;
    }
    return ESC_ERR_TOO_BIG;
}

esc_err ck_read_object(pcsc_card *card, uint32_t id, size_t offset, uint8_t *buf, size_t len)
{
    size_t done = 0;

    if (!card || (!buf && len) || offset > 0xFFFFFFFFu || len > 0xFFFFFFFFu - offset)
        return ESC_ERR_ARG;
    while (done < len) {
        uint8_t req[17] = {0}; /* id(4) offset(4) len(1) nonce(8): all-zero nonce = no login */
        uint8_t d[PCSC_RESP_MAX];
        size_t chunk = len - done > CK_READ_CHUNK ? CK_READ_CHUNK : len - done, dl = 0;
        uint32_t off = (uint32_t)(offset + done);
        struct apdu a;
        uint16_t sw = 0;
        esc_err rv;

        req[0] = (uint8_t)(id >> 24);
        req[1] = (uint8_t)(id >> 16);
        req[2] = (uint8_t)(id >> 8);
        req[3] = (uint8_t)id;
        req[4] = (uint8_t)(off >> 24);
        req[5] = (uint8_t)(off >> 16);
        req[6] = (uint8_t)(off >> 8);
        req[7] = (uint8_t)off;
        req[8] = (uint8_t)chunk;
        apdu_build(&a, CLA_CK, INS_READ_OBJECT, 0x00, 0x00, req, sizeof req, APDU_NO_LE);
        rv = exchange(card, &a, d, sizeof d, &dl, &sw);
        if (rv != ESC_OK)
            return rv;
        if (sw != 0x9000)
            return apdu_sw_err(sw);
        rv = want_len(dl, chunk);
        if (rv != ESC_OK)
            return rv;
        memcpy(buf + done, d, chunk);
        done += chunk;
    }
    return ESC_OK;
}

void ck_cuid_hex(const uint8_t cuid[CK_CUID_LEN], char out[2 * CK_CUID_LEN + 1])
{
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < CK_CUID_LEN; i++) {
        out[2 * i] = hx[cuid[i] >> 4];
        out[2 * i + 1] = hx[cuid[i] & 0x0F];
    }
    out[2 * CK_CUID_LEN] = '\0';
}

void ck_obj_id_str(uint32_t id, char out[9])
{
    uint8_t a = (uint8_t)(id >> 24), b = (uint8_t)(id >> 16);
    if ((id & 0xFFFF) == 0 && a > 0x20 && a < 0x7F && b > 0x20 && b < 0x7F)
        snprintf(out, 9, "%c%c", a, b);
    else
        snprintf(out, 9, "%08X", (unsigned)id);
}
