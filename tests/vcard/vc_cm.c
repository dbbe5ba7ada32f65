/* vc_cm.c: the card manager (issuer security domain): GET DATA (CPLC, card recognition data,
 * key information; coolkey-card.md §3), the secure channel, and the card content commands a
 * TPS format sends (DELETE, INSTALL [for load], LOAD, INSTALL [for install]; §2.7) plus
 * PUT KEY for a key changeover (GP 2.1.1 §9.8). */
#include "vc_card.h"

#include <string.h>

static const uint8_t COOLKEY_PKG[6] = {0x62, 0x76, 0x01, 0xFF, 0x00, 0x00};
static const uint8_t COOLKEY_INST[7] = {0x62, 0x76, 0x01, 0xFF, 0x00, 0x00, 0x00};

static uint16_t get_data(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    uint16_t tag = (uint16_t)(a->p1 << 8 | a->p2);
    if (tag == 0x9F7F) {
        memcpy(r->data, c->cplc, VC_CPLC_LEN); /* always exactly 45 bytes (§3) */
        r->len = VC_CPLC_LEN;
        return SW_OK;
    }
    if (c->scp == 2 && tag == 0x0066) {
        r->len = gp_card_recognition_data(r->data, sizeof(r->data));
        return SW_OK;
    }
    if (c->scp == 2 && tag == 0x00E0) {
        r->len = gp_key_info_template(vc_gp_keys(c)->version, r->data, sizeof(r->data));
        return SW_OK;
    }
    return SW_REF_NOT_FOUND; /* an SCP01 card: the TPS then assumes GP 2.0.1 */
}

/* TLV walk over DELETE data: 4F len AID. */
static uint16_t cm_delete(struct vc_card *c, const struct vc_apdu *a)
{
    if (a->lc < 2 || a->data[0] != 0x4F || (size_t)a->data[1] + 2 > a->lc)
        return SW_WRONG_DATA;
    const uint8_t *aid = a->data + 2;
    size_t n = a->data[1];
    if (n == sizeof(COOLKEY_INST) && memcmp(aid, COOLKEY_INST, n) == 0) {
        if (!c->applet_installed)
            return SW_REF_NOT_FOUND;
        vc_applet_wipe(c, VC_DEFAULT_MEM);
        c->applet_installed = false;
        c->dirty = true;
        return SW_OK;
    }
    if (n == sizeof(COOLKEY_PKG) && memcmp(aid, COOLKEY_PKG, n) == 0) {
        if (!c->package_loaded)
            return SW_REF_NOT_FOUND;
        if (c->applet_installed)
            vc_applet_wipe(c, VC_DEFAULT_MEM);
        c->applet_installed = false; /* deleting the package takes its instances along */
        c->package_loaded = false;
        c->dirty = true;
        return SW_OK;
    }
    return SW_REF_NOT_FOUND;
}

/* Reads one length-prefixed field at *p; false if it runs past the end. */
static bool lv(const struct vc_apdu *a, size_t *p, const uint8_t **v, size_t *n)
{
    if (*p >= a->lc || *p + 1 + a->data[*p] > a->lc)
        return false;
    *n = a->data[*p];
    *v = a->data + *p + 1;
    *p += 1 + *n;
    return true;
}

/* Install parameters: C9 { issuerInfoLen issuerInfo, memLen(=2) mem(2), [maskLen mask] } inside
 * an optional EF wrapper; we only need the applet memory size and the ACL-change bit. */
static void install_params(const uint8_t *p, size_t n, uint16_t *mem, uint8_t *acl_change)
{
    for (size_t i = 0; i + 2 <= n;) {
        size_t l = p[i + 1];
        if (i + 2 + l > n)
            return;
        if (p[i] == 0xC9) {
            const uint8_t *v = p + i + 2;
            size_t off = 0;
            if (off < l)
                off += 1 + v[off]; /* issuer info */
            if (off + 3 <= l && v[off] == 2) {
                unsigned m = (unsigned)v[off + 1] << 8 | v[off + 2];
                if (m >= 1024)
                    *mem = (uint16_t)m;
                off += 3;
            }
            if (off + 2 <= l && v[off] >= 1)
                *acl_change = v[off + 1] & 1;
            return;
        }
        i += 2 + l;
    }
}

static uint16_t cm_install(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    size_t p = 0, n;
    const uint8_t *pkg, *v;
    if (!lv(a, &p, &pkg, &n))
        return SW_WRONG_DATA;
    size_t pkg_len = n;
    if (a->p1 & 0x02) { /* for load */
        if (pkg_len != sizeof(COOLKEY_PKG) || memcmp(pkg, COOLKEY_PKG, pkg_len) != 0)
            return SW_WRONG_DATA; /* this card only ever holds the CoolKey package */
        if (c->package_loaded)
            return SW_CONDITIONS;
        c->load_in_progress = true;
        c->load_next_block = 0;
        r->data[0] = 0x00;
        r->len = 1;
        return SW_OK;
    }
    if (a->p1 & 0x04) { /* for install [and make selectable] */
        const uint8_t *inst;
        size_t inst_len;
        if (!lv(a, &p, &v, &n) || !lv(a, &p, &inst, &inst_len) || !lv(a, &p, &v, &n))
            return SW_WRONG_DATA;
        if (!c->package_loaded || pkg_len != sizeof(COOLKEY_PKG) ||
            memcmp(pkg, COOLKEY_PKG, pkg_len) != 0)
            return SW_REF_NOT_FOUND;
        if (inst_len != sizeof(COOLKEY_INST) || memcmp(inst, COOLKEY_INST, inst_len) != 0)
            return SW_WRONG_DATA;
        uint16_t mem = VC_DEFAULT_MEM;
        uint8_t acl_change = 0;
        if (lv(a, &p, &v, &n))
            install_params(v, n, &mem, &acl_change);
        vc_applet_wipe(c, mem);
        c->enable_acl_change = acl_change;
        c->applet_installed = true;
        c->dirty = true;
        r->data[0] = 0x00;
        r->len = 1;
        return SW_OK;
    }
    if (a->p1 & 0x08) /* make selectable only */
        return c->applet_installed ? SW_OK : SW_REF_NOT_FOUND;
    return SW_WRONG_P1P2;
}

/* LOAD: blocks numbered from 0, P1 80 on the last one. The content is not interpreted. */
static uint16_t cm_load(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    if (!c->load_in_progress)
        return SW_CONDITIONS;
    if (a->p2 != (uint8_t)c->load_next_block || (a->p1 & 0x7F) != 0) {
        c->load_in_progress = false;
        return SW_WRONG_P1P2;
    }
    c->load_next_block++;
    if (a->p1 & 0x80) {
        c->load_in_progress = false;
        c->package_loaded = true;
        c->dirty = true;
    }
    r->data[0] = 0x00;
    r->len = 1;
    return SW_OK;
}

/* PUT KEY: P1 = key version to replace (00 = add), P2 = 81 (first key, several keys).
 * Data: newVersion, then ENC, MAC, KEK each as 80 10 <key under the DEK> 03 <check value>.
 * The DEK is the SCP02 session DEK, or the static KEK under SCP01 (gp_scp keeps that in
 * s_dek). Answer: newVersion || three check values. */
static uint16_t cm_put_key(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    struct gp_keyset k;
    uint8_t *dst[3] = {k.enc, k.mac, k.kek};
    static const uint8_t zero[8];
    if ((a->p2 & 0x7F) != 0x01)
        return SW_WRONG_P1P2;
    if (a->lc != 1 + 3 * 22)
        return SW_WRONG_LENGTH;
    k.version = a->data[0];
    if (k.version == 0 || k.version == 0xFF)
        return SW_WRONG_DATA;
    r->data[0] = k.version;
    for (int i = 0; i < 3; i++) {
        const uint8_t *e = a->data + 1 + 22 * i;
        uint8_t kcv[8];
        if (e[0] != 0x80 || e[1] != 0x10 || e[18] != 0x03)
            return SW_WRONG_DATA;
        gp_kek_decrypt(c->sess.s_dek, e + 2, 16, dst[i]);
        gp_kek_encrypt(dst[i], zero, 8, kcv);
        if (memcmp(kcv, e + 19, 3) != 0) {
            explicit_bzero(&k, sizeof(k));
            return SW_WRONG_DATA;
        }
        memcpy(r->data + 1 + 3 * i, kcv, 3);
    }
    size_t slot = c->n_keysets;
    for (size_t i = 0; i < c->n_keysets; i++)
        if (c->keysets[i].version == (a->p1 ? a->p1 : k.version))
            slot = i;
    if (a->p1 && slot == c->n_keysets)
        return SW_REF_NOT_FOUND;
    if (!a->p1 && slot != c->n_keysets)
        return SW_CONDITIONS; /* that version already exists */
    if (slot == VC_MAX_KEYSETS)
        return SW_NO_MEMORY;
    c->keysets[slot] = k;
    if (slot == c->n_keysets)
        c->n_keysets++;
    c->cur_keyset = slot;
    explicit_bzero(&k, sizeof(k));
    c->dirty = true;
    r->len = 10;
    return SW_OK;
}

static uint16_t cm_secure(struct vc_card *c, const uint8_t *raw, size_t len, struct vc_resp *r)
{
    uint8_t plain[5 + 255];
    struct vc_apdu a;
    uint16_t sw = vc_gp_unwrap(c, raw, len, plain, &a);
    if (sw != SW_OK)
        return sw;
    switch (a.ins) {
    case 0xE4:
        sw = cm_delete(c, &a);
        break;
    case 0xE6:
        sw = cm_install(c, &a, r);
        break;
    case 0xE8:
        sw = cm_load(c, &a, r);
        break;
    case 0xD8:
        sw = cm_put_key(c, &a, r);
        break;
    case 0xCA:
        sw = get_data(c, &a, r);
        break;
    case 0xF0: /* SET STATUS of the card: accepted, not modelled */
        sw = SW_OK;
        break;
    default:
        sw = SW_INS_UNSUPPORTED;
    }
    explicit_bzero(plain, sizeof(plain));
    return sw;
}

uint16_t vc_cm_process(struct vc_card *c, const uint8_t *raw, size_t len, const struct vc_apdu *a,
                       struct vc_resp *r)
{
    switch (a->cla) {
    case 0x00:
    case 0x80:
        if (a->ins == 0xCA)
            return get_data(c, a, r);
        if (a->ins == 0x50 && a->cla == 0x80)
            return vc_gp_initialize_update(c, a, r);
        if (a->ins == 0xE4 || a->ins == 0xE6 || a->ins == 0xE8 || a->ins == 0xD8)
            return SW_SECURITY; /* card content management needs the secure channel */
        return SW_INS_UNSUPPORTED;
    case 0x84:
        if (a->ins == 0x82)
            return vc_gp_external_authenticate(c, raw, len);
        return cm_secure(c, raw, len, r);
    default:
        return SW_CLA_UNSUPPORTED;
    }
}
