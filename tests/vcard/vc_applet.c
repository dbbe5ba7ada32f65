/* vc_applet.c: the CoolKey applet's dispatch (CardEdge.process: CLA B0 with the login nonce,
 * CLA 80 INITIALIZE UPDATE, CLA 84 secure channel; coolkey-card.md §2) and its small
 * commands: status, life cycle, issuer info, build id, random, built-in ACLs. */
#include "vc_card.h"

#include <string.h>

/* Applet version 1.4 and build id 58768072: what the Dogtag TPS requires before it would
 * try an applet upgrade (§6 step 1). */
static const uint8_t BUILD_ID[4] = {0x58, 0x76, 0x80, 0x72};

static uint16_t get_status(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    if (a->p2 != 0)
        return SW_BAD_P2;
    if (a->p1 == 1)
        return SW_INS_UNSUPPORTED; /* GetMemory is compiled out; OpenSC matches on this 6D00 */
    if (a->p1 != 0)
        return SW_BAD_P1;
    size_t free_mem = vc_obj_free_mem(c);
    uint8_t npins = 0, nkeys = 0;
    for (size_t i = 0; i < VC_MAX_PINS; i++)
        npins = (uint8_t)(npins + c->pins[i].present);
    for (size_t i = 0; i < VC_MAX_KEYS; i++)
        nkeys = (uint8_t)(nkeys + (c->keys[i].type != 0));
    const uint8_t s[16] = {1,
                           1,
                           1,
                           4,
                           0,
                           0,
                           (uint8_t)(c->mem_size >> 8),
                           (uint8_t)c->mem_size,
                           0,
                           0,
                           (uint8_t)(free_mem >> 8),
                           (uint8_t)free_mem,
                           npins,
                           nkeys,
                           (uint8_t)(c->nonce_ids >> 8),
                           (uint8_t)c->nonce_ids};
    memcpy(r->data, s, sizeof(s));
    r->len = sizeof(s);
    return SW_OK;
}

static uint16_t get_life_cycle(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    bool pin_enabled = false;
    for (size_t i = 0; i < VC_MAX_PINS; i++)
        pin_enabled |= c->pins[i].present;
    uint8_t writable = ((c->create_obj_acl & 0xFF) && (c->create_key_acl & 0xFF)) ? 2 : 0;
    r->data[0] = c->lifecycle;
    if (a->p3 == 1) {
        r->len = 1;
        return SW_OK;
    }
    r->data[1] = (uint8_t)(pin_enabled + writable);
    r->data[2] = 1; /* protocol 1.1 */
    r->data[3] = 1;
    r->len = 4;
    return SW_OK;
}

static uint16_t get_builtin_acl(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    if (a->p3 < 7)
        return SW_WRONG_LENGTH;
    const uint8_t v[7] = {(uint8_t)(c->create_obj_acl >> 8),
                          (uint8_t)c->create_obj_acl,
                          (uint8_t)(c->create_key_acl >> 8),
                          (uint8_t)c->create_key_acl,
                          (uint8_t)(c->create_pin_acl >> 8),
                          (uint8_t)c->create_pin_acl,
                          c->enable_acl_change};
    memcpy(r->data, v, 7);
    r->len = 7;
    return SW_OK;
}

static uint16_t set_builtin_acl(struct vc_card *c, const struct vc_apdu *a)
{
    if (a->lc != 7)
        return SW_WRONG_LENGTH;
    if (!c->enable_acl_change)
        return SW_NOT_ALLOWED;
    c->create_obj_acl = (uint16_t)(a->data[0] << 8 | a->data[1]);
    c->create_key_acl = (uint16_t)(a->data[2] << 8 | a->data[3]);
    c->create_pin_acl = (uint16_t)(a->data[4] << 8 | a->data[5]);
    c->enable_acl_change = a->data[6];
    c->dirty = true;
    return SW_OK;
}

/* CLA B0 commands (CA processCardEdgeAPDU). */
static uint16_t card_edge(struct vc_card *c, struct vc_apdu *a, struct vc_resp *r)
{
    static const uint8_t zero[8];
    switch (a->ins) { /* requireAuth: the last 8 data bytes are the login nonce (§2.1) */
    case 0x32:
    case 0x36:
    case 0x40:
    case 0x5A:
    case 0x52:
    case 0x56:
    case 0x54:
        if (a->lc < 8)
            return SW_UNAUTHORIZED;
        if (memcmp(a->data + a->lc - 8, zero, 8) == 0)
            c->auth_id |= VC_ID_DEFAULT;
        else if (c->nonce_ids && memcmp(a->data + a->lc - 8, c->nonce, 8) == 0)
            c->auth_id = c->nonce_ids;
        else
            return SW_UNAUTHORIZED;
        a->lc -= 8;
        a->p3 = (uint8_t)a->lc;
        a->has_data = a->lc > 0;
        break;
    default:
        break;
    }
    switch (a->ins) {
    case 0x32:
        return vc_cmd_import_key(c, a);
    case 0x36:
        return vc_cmd_compute_crypt(c, a, r);
    case 0x42:
        return vc_cmd_verify_pin(c, a, r);
    case 0x40:
        return vc_cmd_create_pin(c, a);
    case 0x44:
        return vc_cmd_change_pin(c, a);
    case 0x5A:
        return vc_cmd_create_object(c, a);
    case 0x52:
        return vc_cmd_delete_object(c, a);
    case 0x56:
        return vc_cmd_read_object(c, a, r);
    case 0x54:
        return vc_cmd_write_object(c, a);
    case 0x61:
        return vc_cmd_logout(c, a);
    case 0x48:
        return vc_cmd_list_pins(c, a, r);
    case 0x58:
        return vc_cmd_list_objects(c, a, r);
    case 0x3A:
        return vc_cmd_list_keys(c, a, r);
    case 0x3C:
        return get_status(c, a, r);
    case 0xF6:
        if (a->p3 != VC_ISSUER_LEN)
            return SW_WRONG_LENGTH;
        memcpy(r->data, c->issuer, VC_ISSUER_LEN);
        r->len = VC_ISSUER_LEN;
        return SW_OK;
    case 0x72:
        if (!vc_random(r->data, a->p3))
            return SW_INTERNAL;
        r->len = a->p3;
        return SW_OK;
    case 0x73: /* SEED RANDOM: OpenSSL's pool needs no help */
        return SW_OK;
    case 0xF2:
        return get_life_cycle(c, a, r);
    case 0x70:
        if (a->p3 < 4)
            return SW_WRONG_LENGTH;
        memcpy(r->data, BUILD_ID, 4);
        r->len = 4;
        return SW_OK;
    case 0xFA:
        return get_builtin_acl(c, a, r);
    case 0x4A:
        return vc_cmd_pin_tries(c, a, r);
    case 0x71:
        return SW_OK;
    default:
        return SW_INS_UNSUPPORTED;
    }
}

/* CLA 84 commands after unwrap (CA processSecureAPDU); the RA identity is set. */
static uint16_t secure(struct vc_card *c, const uint8_t *raw, size_t len, struct vc_resp *r)
{
    uint8_t plain[5 + 255];
    struct vc_apdu a;
    uint16_t sw = vc_gp_unwrap(c, raw, len, plain, &a);
    if (sw != SW_OK)
        return sw;
    switch (a.ins) {
    case 0x55:
        sw = vc_cmd_clear_key_slots(c, &a);
        break;
    case 0x04:
        sw = vc_cmd_reset_pin(c, &a);
        break;
    case 0x0C:
        sw = vc_cmd_generate_key(c, &a, r);
        break;
    case 0x0A:
        sw = vc_cmd_import_key_encrypted(c, &a);
        break;
    case 0xF0:
        if (a.lc != 0)
            sw = SW_WRONG_LENGTH;
        else if (a.p1 != 0x03 && a.p1 != 0x07 && a.p1 != 0x0F && a.p1 != 0x7F && a.p1 != 0xFF)
            sw = SW_INVALID_PARAM; /* setCardContentState refuses other values */
        else {
            c->lifecycle = a.p1;
            c->dirty = true;
        }
        break;
    case 0xF4:
        if (a.lc != VC_ISSUER_LEN) {
            sw = SW_WRONG_LENGTH;
        } else {
            memcpy(c->issuer, a.data, VC_ISSUER_LEN);
            c->dirty = true;
        }
        break;
    case 0xF8:
        sw = set_builtin_acl(c, &a);
        break;
    case 0x5A:
        sw = vc_cmd_create_object(c, &a);
        break;
    case 0x54:
        sw = vc_cmd_write_object(c, &a);
        break;
    case 0x32:
        sw = vc_cmd_import_key(c, &a);
        break;
    case 0x36:
        sw = vc_cmd_compute_crypt(c, &a, r);
        break;
    case 0x40:
        sw = vc_cmd_create_pin(c, &a);
        break;
    case 0x52:
        sw = vc_cmd_delete_object(c, &a);
        break;
    case 0x56:
        sw = vc_cmd_read_object(c, &a, r);
        break;
    default:
        sw = SW_INS_UNSUPPORTED; /* 08 READ IO BUFFER is compiled out of the applet too */
    }
    explicit_bzero(plain, sizeof(plain));
    return sw;
}

uint16_t vc_applet_process(struct vc_card *c, const uint8_t *raw, size_t len,
                           const struct vc_apdu *a, struct vc_resp *r)
{
    struct vc_apdu cmd = *a;
    switch (a->cla) {
    case 0x00:
        return SW_OK; /* CardEdge.process returns on every ISO command */
    case 0xB0:
        return card_edge(c, &cmd, r);
    case 0x80:
        if (a->ins != 0x50)
            return SW_INS_UNSUPPORTED;
        return vc_gp_initialize_update(c, a, r);
    case 0x84:
        if (a->ins == 0x82)
            return vc_gp_external_authenticate(c, raw, len);
        return secure(c, raw, len, r);
    default:
        return SW_CLA_UNSUPPORTED;
    }
}
