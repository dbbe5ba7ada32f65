/* test_vcard_util.h: helpers for the virtual card's unit tests (tests/unit/test_vcard_*.c):
 * send a hex APDU to the card core and look at the answer; open a secure channel as a TPS
 * does, with the host side of tests/lib/gp_scp. */
#ifndef ESC_TEST_VCARD_UTIL_H
#define ESC_TEST_VCARD_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gp_scp.h"
#include "vc_card.h"

struct rsp {
    uint8_t d[VC_RESP_MAX];
    size_t len; /* data length, without the SW */
    uint16_t sw;
};

static inline size_t unhexs(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*s && n < cap) {
        if (*s == ' ') {
            s++;
            continue;
        }
        char b[3] = {s[0], s[1], 0};
        out[n++] = (uint8_t)strtoul(b, NULL, 16);
        s += 2;
    }
    return n;
}

static inline uint16_t txb(struct vc_card *c, const uint8_t *apdu, size_t len, struct rsp *r)
{
    uint8_t out[VC_RESP_MAX];
    size_t n = vc_card_apdu(c, apdu, len, out);
    r->len = n - 2;
    memcpy(r->d, out, r->len);
    r->sw = (uint16_t)(out[n - 2] << 8 | out[n - 1]);
    return r->sw;
}

/* tx(card, "B0 F2 00 00 04", &r) */
static inline uint16_t tx(struct vc_card *c, const char *hex, struct rsp *r)
{
    uint8_t a[600];
    return txb(c, a, unhexs(hex, a, sizeof(a)), r);
}

static inline uint16_t select_applet(struct vc_card *c)
{
    struct rsp r;
    return tx(c, "00 A4 04 00 07 62 76 01 FF 00 00 00", &r);
}

/* INITIALIZE UPDATE + EXTERNAL AUTHENTICATE (level 03) with the developer keys, as the TPS.
 * Returns the SW of EXTERNAL AUTHENTICATE (or of INITIALIZE UPDATE if that failed). */
static inline uint16_t open_channel(struct vc_card *c, struct gp_session *s, uint8_t level)
{
    uint8_t a[13] = {0x80, 0x50, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8}, cc[8], hc[8], ea[21];
    struct gp_keyset k;
    struct rsp r;
    if (txb(c, a, sizeof(a), &r) != 0x9000 || r.len != 28)
        return r.sw;
    gp_keyset_developer(&k);
    k.version = r.d[10];
    if (r.d[11] == 2)
        gp_scp02_session(&k, r.d + 12, s);
    else
        gp_scp01_session(&k, a + 5, r.d + 12, s);
    gp_card_cryptogram(s, a + 5, r.d + 12, cc);
    if (memcmp(cc, r.d + 20, 8) != 0)
        return 0x0001; /* the card's cryptogram is wrong */
    gp_host_cryptogram(s, a + 5, r.d + 12, hc);
    gp_external_authenticate(s, level, hc, ea);
    return txb(c, ea, sizeof(ea), &r);
}

/* Wraps a plain APDU (hex) for the channel and sends it. */
static inline uint16_t stx(struct vc_card *c, struct gp_session *s, const char *hex, struct rsp *r)
{
    uint8_t a[300], w[300];
    size_t n = unhexs(hex, a, sizeof(a));
    size_t wn = gp_wrap(s, a, n, 0, w, sizeof(w));
    if (!wn)
        return 0x0002;
    return txb(c, w, wn, r);
}

static inline uint16_t stxb(struct vc_card *c, struct gp_session *s, const uint8_t *a, size_t n,
                            int le, struct rsp *r)
{
    uint8_t w[300];
    size_t wn = gp_wrap(s, a, n, le, w, sizeof(w));
    if (!wn)
        return 0x0002;
    return txb(c, w, wn, r);
}

#endif
