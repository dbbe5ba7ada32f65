/* vc_gp.c: the GlobalPlatform side of the card: the secure channel (INITIALIZE UPDATE,
 * EXTERNAL AUTHENTICATE, unwrap of CLA 84; coolkey-card.md §5) and the key sets it uses.
 * The cryptography itself is tests/lib/gp_scp.c, shared with the reference TPS. */
#include "vc_card.h"

#include <string.h>

const struct gp_keyset *vc_gp_keys(const struct vc_card *c)
{
    size_t i = c->chan != VC_CHAN_NONE ? c->chan_keyset : c->cur_keyset;
    return &c->keysets[i < c->n_keysets ? i : 0];
}

static void close_channel(struct vc_card *c)
{
    c->chan = VC_CHAN_NONE;
    explicit_bzero(&c->sess, sizeof(c->sess));
}

/* 80 50 keyVersion keyIndex 08 hostChallenge -> 28 bytes (§5.1). Key version 00 means the
 * current key set; an unknown version is refused with 6A88 like tpsclient's token. */
uint16_t vc_gp_initialize_update(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    size_t ks = c->cur_keyset;
    uint8_t cryptogram[8], cuid[10];
    close_channel(c);
    if (!a->has_data || a->lc != 8)
        return SW_WRONG_LENGTH;
    if (a->p1 != 0) {
        for (ks = 0; ks < c->n_keysets && c->keysets[ks].version != a->p1; ks++)
            ;
        if (ks == c->n_keysets)
            return SW_REF_NOT_FOUND;
    }
    memcpy(c->host_chal, a->data, 8);
    const struct gp_keyset *k = &c->keysets[ks];
    if (c->scp == 2) {
        c->card_chal[0] = (uint8_t)(c->seq >> 8);
        c->card_chal[1] = (uint8_t)c->seq;
        if (!vc_random(c->card_chal + 2, 6))
            return SW_INTERNAL;
        gp_scp02_session(k, c->card_chal, &c->sess);
        c->seq++; /* a new session uses a new counter value */
        c->dirty = true;
    } else {
        if (!vc_random(c->card_chal, 8))
            return SW_INTERNAL;
        gp_scp01_session(k, c->host_chal, c->card_chal, &c->sess);
    }
    gp_card_cryptogram(&c->sess, c->host_chal, c->card_chal, cryptogram);
    vc_card_cuid(c, cuid);
    memcpy(r->data, cuid, 10); /* KDD = CUID, as tpsclient's virtual token */
    r->data[10] = k->version;
    r->data[11] = (uint8_t)c->scp;
    memcpy(r->data + 12, c->card_chal, 8);
    memcpy(r->data + 20, cryptogram, 8);
    r->len = 28;
    c->chan_keyset = ks;
    c->chan = VC_CHAN_INITIALIZED;
    return SW_OK;
}

/* 84 82 level 00 10 hostCryptogram C-MAC. The applet accepts only levels 01 and 03. */
uint16_t vc_gp_external_authenticate(struct vc_card *c, const uint8_t *raw, size_t len)
{
    uint8_t plain[5 + 255], want[8];
    if (c->chan != VC_CHAN_INITIALIZED)
        return SW_CONDITIONS;
    if (len < 5 || (raw[4] != 16) || (len != 21 && len != 22)) {
        close_channel(c);
        return SW_WRONG_LENGTH;
    }
    if (raw[2] != 0x01 && raw[2] != 0x03) {
        close_channel(c);
        return SW_CONDITIONS;
    }
    size_t n = gp_unwrap(&c->sess, raw, len, plain, sizeof(plain));
    gp_host_cryptogram(&c->sess, c->host_chal, c->card_chal, want);
    if (n != 5 + 8 || memcmp(plain + 5, want, 8) != 0) {
        close_channel(c);
        return SW_SECURITY;
    }
    c->chan = VC_CHAN_OPEN;
    return SW_OK;
}

uint16_t vc_gp_unwrap(struct vc_card *c, const uint8_t *raw, size_t len, uint8_t *plain,
                      struct vc_apdu *a)
{
    if (c->chan != VC_CHAN_OPEN)
        return SW_SECURITY;
    size_t n = gp_unwrap(&c->sess, raw, len, plain, 5 + 255);
    if (n < 5) {
        close_channel(c); /* a MAC failure ends the session (GP 2.1.1 §E.4.4) */
        return SW_SECURITY;
    }
    memset(a, 0, sizeof(*a));
    a->cla = plain[0], a->ins = plain[1], a->p1 = plain[2], a->p2 = plain[3];
    a->p3 = plain[4];
    a->lc = plain[4];
    a->data = plain + 5;
    a->has_data = a->lc > 0;
    c->auth_id |= VC_ID_RA; /* the RA identity for this APDU (CA verifySecureChannel) */
    return SW_OK;
}
