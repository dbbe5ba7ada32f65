/* vc_card.c: the card's life (init, reset) and the APDU entry point: parsing, SELECT, and
 * routing to the card manager or the CoolKey applet (coolkey-card.md §1, §8). */
#include "vc_card.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

static const uint8_t COOLKEY_AID[7] = {0x62, 0x76, 0x01, 0xFF, 0x00, 0x00, 0x00};
static const uint8_t CM_AID[7] = {0xA0, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00};
static const uint8_t CM_AID8[8] = {0xA0, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00};
static const uint8_t CM_AID_GP[7] = {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00};

bool vc_random(uint8_t *out, size_t len)
{
    return len == 0 || RAND_bytes(out, (int)len) == 1;
}

void vc_cplc_build(const uint8_t cuid[10], uint8_t cplc[VC_CPLC_LEN])
{
    memset(cplc, 0, VC_CPLC_LEN);
    cplc[0] = 0x9F;
    cplc[1] = 0x7F;
    cplc[2] = 0x2A;
    memcpy(cplc + 3, cuid, 4);      /* IC fabricator, IC type */
    memcpy(cplc + 19, cuid + 4, 2); /* IC batch ID */
    memcpy(cplc + 15, cuid + 6, 4); /* IC serial */
    cplc[7] = 0x47;                 /* OS ID "GP" */
    cplc[8] = 0x50;
    memcpy(cplc + 41, cuid + 6, 4); /* MSN: the IC serial again */
}

void vc_card_cuid(const struct vc_card *c, uint8_t cuid[10])
{
    memcpy(cuid, c->cplc + 3, 4);
    memcpy(cuid + 4, c->cplc + 19, 2);
    memcpy(cuid + 6, c->cplc + 15, 4);
}

void vc_applet_wipe(struct vc_card *c, uint16_t mem_size)
{
    for (size_t i = 0; i < c->n_objs; i++) {
        if (c->objs[i].data) {
            explicit_bzero(c->objs[i].data, c->objs[i].size);
            free(c->objs[i].data);
        }
    }
    memset(c->objs, 0, sizeof(c->objs));
    c->n_objs = 0;
    for (size_t i = 0; i < VC_MAX_KEYS; i++)
        vc_key_clear(&c->keys[i]);
    explicit_bzero(c->pins, sizeof(c->pins));
    memset(c->issuer, 0, sizeof(c->issuer));
    c->lifecycle = VC_LC_SELECTABLE;
    /* Dogtag's TPS reads total memory as two Java (signed) bytes (coolkey-card.md §6 step 7):
     * keep both bytes below 0x80 so every TPS sees the true size (5000 -> 4872). */
    c->mem_size = mem_size & 0x7F7F;
    c->create_obj_acl = c->create_key_acl = c->create_pin_acl = VC_ID_RA;
    c->enable_acl_change = 0;
    vc_logout_all(c);
    c->iobuf_size = 0;
    c->dirty = true;
}

void vc_card_init(struct vc_card *c)
{
    static const uint8_t default_cuid[10] = {0x40, 0x90, 0x79, 0x00, 0x00,
                                             0x01, 0x12, 0x34, 0x56, 0x78};
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < VC_MAX_KEYS; i++)
        c->keys[i].mate = -1;
    vc_cplc_build(default_cuid, c->cplc);
    c->scp = 2;
    gp_keyset_developer(&c->keysets[0]);
    c->n_keysets = 1;
    c->cur_keyset = 0;
    c->seq = 1;
    c->mem_size = VC_DEFAULT_MEM & 0x7F7F;
    c->create_obj_acl = c->create_key_acl = c->create_pin_acl = VC_ID_RA;
    vc_card_reset(c);
    c->dirty = true;
}

void vc_card_free(struct vc_card *c)
{
    vc_applet_wipe(c, 0);
    explicit_bzero(c, sizeof(*c));
}

void vc_card_reset(struct vc_card *c)
{
    c->selected = VC_SEL_CM; /* the ISD is the default selected application */
    c->chan = VC_CHAN_NONE;
    explicit_bzero(&c->sess, sizeof(c->sess));
    c->auth_id = 0;
    memset(c->nonce, 0, sizeof(c->nonce));
    c->nonce_ids = 0;
    memset(c->login_count, 0, sizeof(c->login_count));
    explicit_bzero(c->iobuf, sizeof(c->iobuf));
    c->iobuf_size = 0;
    c->list_obj_next = c->list_key_next = 0;
    memset(c->ciph_dir, 0, sizeof(c->ciph_dir));
    c->load_in_progress = false;
}

/* Short APDUs only: case 1 (4 bytes), case 2 (P3 = Le), case 3 (Lc data), case 4 (Lc data
 * Le). Anything else is a length error. */
static bool parse_apdu(const uint8_t *raw, size_t len, struct vc_apdu *a)
{
    memset(a, 0, sizeof(*a));
    if (len < 4)
        return false;
    a->cla = raw[0], a->ins = raw[1], a->p1 = raw[2], a->p2 = raw[3];
    if (len == 4)
        return true;
    a->p3 = raw[4];
    if (len == 5)
        return true;
    if (raw[4] == 0 || (len != 5 + (size_t)raw[4] && len != 6 + (size_t)raw[4]))
        return false;
    a->data = raw + 5;
    a->lc = raw[4];
    a->has_data = true;
    return true;
}

/* Leaving an application clears its CLEAR_ON_DESELECT memory and the secure channel. */
static void deselect(struct vc_card *c, enum vc_selected next)
{
    c->selected = next;
    c->chan = VC_CHAN_NONE;
    explicit_bzero(&c->sess, sizeof(c->sess));
    explicit_bzero(c->iobuf, sizeof(c->iobuf));
    c->iobuf_size = 0;
    memset(c->ciph_dir, 0, sizeof(c->ciph_dir));
}

/* FCI of the ISD: 6F { 84 AID, A5 { 9F 6E .., 9F 65 max length } } */
static size_t cm_fci(uint8_t *out)
{
    static const uint8_t fci[] = {0x6F, 0x10, 0x84, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x03, 0x00,
                                  0x00, 0xA5, 0x05, 0x9F, 0x65, 0x01, 0xFF, 0x90, 0x00};
    memcpy(out, fci, sizeof(fci) - 2);
    return sizeof(fci) - 2;
}

static bool aid_is(const struct vc_apdu *a, const uint8_t *aid, size_t n)
{
    return a->lc == n && memcmp(a->data, aid, n) == 0;
}

static uint16_t do_select(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    if (a->p1 != 0x04)
        return SW_FILE_NOT_FOUND; /* no file system on this card */
    if (a->p2 != 0x00 && a->p2 != 0x0C)
        return SW_WRONG_P1P2;
    if (!a->has_data || aid_is(a, CM_AID, 7) || aid_is(a, CM_AID8, 8) || aid_is(a, CM_AID_GP, 7)) {
        deselect(c, VC_SEL_CM);
        if (a->p2 == 0x00)
            r->len = cm_fci(r->data);
        return SW_OK;
    }
    if (aid_is(a, COOLKEY_AID, 7)) {
        if (!c->applet_installed)
            return SW_FILE_NOT_FOUND;
        deselect(c, VC_SEL_APPLET);
        return SW_OK; /* the applet answers SELECT with a plain 9000 (no FCI) */
    }
    return SW_FILE_NOT_FOUND;
}

size_t vc_card_apdu(struct vc_card *c, const uint8_t *raw, size_t len, uint8_t *resp)
{
    struct vc_apdu a;
    struct vc_resp r;
    uint16_t sw;
    r.len = 0;
    c->auth_id = 0; /* identities are re-established for every APDU (CA process) */
    if (!parse_apdu(raw, len, &a))
        sw = SW_WRONG_LENGTH;
    else if (a.cla == 0x00 && a.ins == 0xA4)
        sw = do_select(c, &a, &r);
    else if (c->selected == VC_SEL_APPLET)
        sw = vc_applet_process(c, raw, len, &a, &r);
    else
        sw = vc_cm_process(c, raw, len, &a, &r);
    if (sw != SW_OK && !(sw >> 8 == 0x61))
        r.len = 0;
    if (r.len > VC_RESP_MAX - 2)
        r.len = 0, sw = SW_INTERNAL;
    memcpy(resp, r.data, r.len);
    resp[r.len] = (uint8_t)(sw >> 8);
    resp[r.len + 1] = (uint8_t)sw;
    explicit_bzero(r.data, sizeof(r.data));
    return r.len + 2;
}
