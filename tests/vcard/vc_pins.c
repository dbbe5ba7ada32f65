/* vc_pins.c: PINs with try counters, the login nonce and per-PIN login counts
 * (coolkey-card.md §2.1, §2.4; CardEdge VerifyPIN, CreatePIN, resetPIN, Logout). */
#include "vc_card.h"

#include <string.h>

#define PIN_MIN 4

static bool policy_ok(size_t len)
{
    return len >= PIN_MIN && len <= VC_PIN_MAX; /* CheckPINPolicy: size only */
}

void vc_pin_set(struct vc_pin *p, const uint8_t *pin, size_t len, uint8_t max_tries)
{
    explicit_bzero(p->value, sizeof(p->value));
    memcpy(p->value, pin, len);
    p->len = (uint8_t)len;
    p->max_tries = p->tries_left = max_tries;
    p->present = true;
}

static void logout_one(struct vc_card *c, unsigned n)
{
    if (c->login_count[n])
        c->login_count[n]--;
    if (c->login_count[n])
        return;
    c->nonce_ids &= (uint16_t) ~(1u << n);
    if (!c->nonce_ids)
        memset(c->nonce, 0, sizeof(c->nonce));
}

static void logout_identity(struct vc_card *c, unsigned n)
{
    c->login_count[n] = 0;
    logout_one(c, n);
}

void vc_logout_all(struct vc_card *c)
{
    memset(c->login_count, 0, sizeof(c->login_count));
    c->nonce_ids = 0;
    memset(c->nonce, 0, sizeof(c->nonce));
}

/* Constant-time comparison: the PIN is a secret even on a test card. */
static bool pin_matches(const struct vc_pin *p, const uint8_t *v, size_t len)
{
    uint8_t diff = (uint8_t)(len != p->len);
    for (size_t i = 0; i < VC_PIN_MAX; i++)
        diff |= (uint8_t)((i < len ? v[i] : 0) ^ p->value[i]);
    return diff == 0;
}

static struct vc_pin *pin_arg(struct vc_card *c, const struct vc_apdu *a)
{
    if (a->p1 >= VC_MAX_PINS || !c->pins[a->p1].present)
        return NULL;
    return &c->pins[a->p1];
}

uint16_t vc_cmd_verify_pin(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    struct vc_pin *p = pin_arg(c, a);
    if (!p)
        return SW_BAD_P1;
    if (a->p2 != 0)
        return SW_BAD_P2;
    if (p->tries_left == 0)
        return SW_BLOCKED;
    if (!policy_ok(a->lc) || !pin_matches(p, a->data, a->lc)) {
        p->tries_left--; /* OwnerPIN.check decrements before comparing */
        c->dirty = true;
        logout_identity(c, a->p1);
        return SW_AUTH_FAILED;
    }
    if (p->tries_left != p->max_tries) {
        p->tries_left = p->max_tries;
        c->dirty = true;
    }
    if (!c->nonce_ids && !vc_random(c->nonce, sizeof(c->nonce)))
        return SW_INTERNAL;
    c->nonce_ids |= (uint16_t)(1u << a->p1);
    c->login_count[a->p1]++;
    memcpy(r->data, c->nonce, sizeof(c->nonce));
    r->len = sizeof(c->nonce);
    return SW_OK;
}

/* P1 = PIN number, P2 = maximum tries, data = the PIN. Needs the create-PIN ACL (the RA). */
uint16_t vc_cmd_create_pin(struct vc_card *c, const struct vc_apdu *a)
{
    if (!(c->auth_id & c->create_pin_acl))
        return SW_UNAUTHORIZED;
    if (a->p1 >= VC_MAX_PINS || c->pins[a->p1].present)
        return SW_BAD_P1;
    if (a->lc < 1 || !policy_ok(a->lc))
        return SW_INVALID_PARAM;
    vc_pin_set(&c->pins[a->p1], a->data, a->lc, a->p2);
    c->dirty = true;
    return SW_OK;
}

/* SET PIN (84 04): reset and unblock with a new value. */
uint16_t vc_cmd_reset_pin(struct vc_card *c, const struct vc_apdu *a)
{
    if (a->p1 >= VC_MAX_PINS)
        return SW_BAD_P1;
    if (a->p2 != 0)
        return SW_BAD_P2;
    struct vc_pin *p = pin_arg(c, a);
    if (!p)
        return SW_BAD_P1;
    if (!policy_ok(a->lc))
        return SW_INVALID_PARAM;
    vc_pin_set(p, a->data, a->lc, p->max_tries);
    logout_identity(c, a->p1);
    c->dirty = true;
    return SW_OK;
}

/* CHANGE PIN: the applet's 1-byte lengths (len old len new) or libckyapplet's 2-byte ones
 * (§2.4 notes the mismatch; both are accepted). */
uint16_t vc_cmd_change_pin(struct vc_card *c, const struct vc_apdu *a)
{
    struct vc_pin *p = pin_arg(c, a);
    const uint8_t *d = a->data;
    size_t n = a->lc, ol, nl, oo, no;
    if (!p)
        return SW_BAD_P1;
    if (a->p2 != 0)
        return SW_BAD_P2;
    if (n >= 2 && d[0] + 2u <= n && 2u + d[0] + d[1 + d[0]] == n) {
        ol = d[0], oo = 1, no = 2 + ol, nl = d[1 + ol];
    } else if (n >= 4 && (size_t)(d[0] << 8 | d[1]) + 4 <= n &&
               4u + (size_t)(d[0] << 8 | d[1]) +
                       (size_t)(d[2 + (d[0] << 8 | d[1])] << 8 | d[3 + (d[0] << 8 | d[1])]) ==
                   n) {
        ol = (size_t)(d[0] << 8 | d[1]), oo = 2, no = 4 + ol;
        nl = n - no;
    } else {
        return SW_WRONG_LENGTH;
    }
    if (p->tries_left == 0)
        return SW_BLOCKED;
    if (!policy_ok(ol) || !pin_matches(p, d + oo, ol)) {
        p->tries_left--;
        c->dirty = true;
        logout_identity(c, a->p1);
        return SW_AUTH_FAILED;
    }
    if (!policy_ok(nl))
        return SW_INVALID_PARAM;
    vc_pin_set(p, d + no, nl, p->max_tries);
    c->dirty = true;
    return SW_OK;
}

uint16_t vc_cmd_list_pins(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    if (a->p1 != 0)
        return SW_BAD_P1;
    if (a->p2 != 0)
        return SW_BAD_P2;
    if (a->p3 != 2)
        return SW_WRONG_LENGTH;
    uint16_t mask = 0;
    for (unsigned i = 0; i < VC_MAX_PINS; i++)
        if (c->pins[i].present)
            mask |= (uint16_t)(1u << i);
    r->data[0] = (uint8_t)(mask >> 8);
    r->data[1] = (uint8_t)mask;
    r->len = 2;
    return SW_OK;
}

uint16_t vc_cmd_pin_tries(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    struct vc_pin *p = pin_arg(c, a);
    if (!p)
        return SW_BAD_P1;
    if (a->p2 != 0)
        return SW_BAD_P2;
    if (a->p3 != 1)
        return SW_WRONG_LENGTH;
    r->data[0] = p->tries_left;
    r->len = 1;
    return SW_OK;
}

uint16_t vc_cmd_logout(struct vc_card *c, const struct vc_apdu *a)
{
    if (a->p1 >= VC_MAX_PINS || !c->pins[a->p1].present)
        return SW_BAD_P1; /* the applet would throw a NullPointerException here */
    logout_one(c, a->p1);
    return SW_OK;
}
