/* fuzz_gp_unwrap: the card side of the secure channel (tests/lib/gp_scp.c gp_unwrap) fed with
 * arbitrary APDUs on established SCP01 and SCP02 sessions (levels 01 and 03).
 * Input: byte 0 picks the protocol (bit 0) and level (bit 1); the rest is a sequence of
 * APDUs, each prefixed by its length byte, all unwrapped on the same session so the chaining
 * value moves as it would on a card. Every input APDU is also wrapped as a plain command on
 * the host side (but EXTERNAL AUTHENTICATE, INS 82) and must unwrap to itself: a mismatch is a
 * bug and aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gp_scp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t HOST_CHAL[8] = {0x77, 0x57, 0x62, 0xE4, 0x5E, 0x23, 0x66, 0x7D};
static const uint8_t CARD_CHAL01[8] = {0xBD, 0x6D, 0x19, 0x85, 0x6E, 0x54, 0x0F, 0xCD};
static const uint8_t CARD_CHAL02[8] = {0x00, 0x01, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6};

/* Host and card sessions after a successful EXTERNAL AUTHENTICATE. */
static void open_channel(enum gp_scp scp, uint8_t level, struct gp_session *host,
                         struct gp_session *card)
{
    struct gp_keyset k;
    uint8_t hc[8], ea[21], plain[32];
    const uint8_t *cc = scp == GP_SCP01 ? CARD_CHAL01 : CARD_CHAL02;
    gp_keyset_developer(&k);
    if (scp == GP_SCP01)
        gp_scp01_session(&k, HOST_CHAL, cc, host);
    else
        gp_scp02_session(&k, cc, host);
    *card = *host;
    gp_host_cryptogram(host, HOST_CHAL, cc, hc);
    gp_external_authenticate(host, level, hc, ea);
    if (gp_unwrap(card, ea, sizeof ea, plain, sizeof plain) != 13)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum gp_scp scp = (data[0] & 1) ? GP_SCP02 : GP_SCP01;
    uint8_t level = (data[0] & 2) ? GP_SEC_CMAC_CDEC : GP_SEC_CMAC;
    struct gp_session host, card;
    open_channel(scp, level, &host, &card);
    size_t off = 1;
    while (off < size) {
        size_t n = data[off++];
        if (n > size - off)
            n = size - off;
        const uint8_t *apdu = data + off;
        off += n;

        /* hostile bytes straight at the card; small output buffers too */
        uint8_t out[300], small[16];
        struct gp_session probe = card;
        size_t got = gp_unwrap(&probe, apdu, n, out, sizeof out);
        if (got > sizeof out || (got && got < 5))
            abort();
        if (!got && memcmp(probe.icv, card.icv, 8) != 0)
            abort(); /* a refused command must not move the chain */
        probe = card;
        if (gp_unwrap(&probe, apdu, n, small, sizeof small) > sizeof small)
            abort();

        /* the same bytes as a plain command: wrap, then the card must get it back exactly */
        uint8_t w[300], p[300];
        if (n >= 2 && apdu[1] == 0x82)
            continue; /* EXTERNAL AUTHENTICATE is never wrapped as an ordinary command */
        size_t wn = gp_wrap(&host, apdu, n, n & 1, w, sizeof w);
        if (wn == 0)
            continue;
        size_t pn = gp_unwrap(&card, w, wn, p, sizeof p);
        size_t dlen = n > 4 ? n - 5 : 0;
        if (pn != 5 + dlen || p[0] != 0x84 || memcmp(p + 1, apdu + 1, 3) != 0 || p[4] != dlen ||
            (dlen && memcmp(p + 5, apdu + 5, dlen) != 0))
            abort();
    }
    return 0;
}
