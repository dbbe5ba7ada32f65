/* vc_show.c: a card state for people (text) and for test scripts (JSON). */
#include "vc_show.h"

#include <string.h>

static void hex(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02X", p[i]);
}

/* Object IDs print as their ASCII form ("z0") when both leading bytes are printable. */
static void obj_name(FILE *f, const uint8_t id[4])
{
    if (id[0] > 0x20 && id[0] < 0x7F && id[1] > 0x20 && id[1] < 0x7F && !id[2] && !id[3])
        fprintf(f, "%c%c", id[0], id[1]);
    else
        hex(f, id, 4);
}

/* The issuer info up to its first NUL, with anything unprintable as '?' (JSON-safe). */
static void issuer(FILE *f, const struct vc_card *c)
{
    for (size_t i = 0; i < VC_ISSUER_LEN && c->issuer[i]; i++) {
        uint8_t ch = c->issuer[i];
        fputc(ch >= 0x20 && ch < 0x7F && ch != '"' && ch != '\\' ? ch : '?', f);
    }
}

static const char *key_type(uint8_t t)
{
    return t == VC_KEY_RSA_PRIVATE_CRT ? "rsa-private" : "rsa-public";
}

static void show_text(const struct vc_card *c, FILE *f)
{
    uint8_t cuid[10];
    vc_card_cuid(c, cuid);
    fprintf(f, "CUID: ");
    hex(f, cuid, 10);
    fprintf(f, "\nMSN: ");
    hex(f, c->cplc + 41, 4);
    fprintf(f, "\nSecure channel: SCP0%d, key version %02X (of %zu), sequence counter %u\n", c->scp,
            c->keysets[c->cur_keyset].version, c->n_keysets, c->seq);
    fprintf(f, "CoolKey package: %s\nApplet: %s\n", c->package_loaded ? "loaded" : "absent",
            c->applet_installed ? "installed" : "absent");
    if (!c->applet_installed)
        return;
    fprintf(f, "Life cycle: %02X\nIssuer info: ", c->lifecycle);
    issuer(f, c);
    fprintf(f, "\nMemory: %u total, %zu free\n", c->mem_size, vc_obj_free_mem(c));
    for (size_t i = 0; i < VC_MAX_PINS; i++)
        if (c->pins[i].present)
            fprintf(f, "PIN %zu: %u of %u tries left%s\n", i, c->pins[i].tries_left,
                    c->pins[i].max_tries, c->pins[i].tries_left ? "" : " (blocked)");
    for (size_t i = c->n_objs; i-- > 0;) {
        const struct vc_object *o = &c->objs[i];
        fprintf(f, "Object ");
        obj_name(f, o->id);
        fprintf(f, ": %zu bytes, ACL read %04X write %04X delete %04X\n", o->size, o->acl[0],
                o->acl[1], o->acl[2]);
    }
    for (size_t i = 0; i < VC_MAX_KEYS; i++) {
        const struct vc_key *k = &c->keys[i];
        if (k->type)
            fprintf(f, "Key %zu: %s %u bits, mate %d, ACL read %04X write %04X use %04X\n", i,
                    key_type(k->type), k->bits, k->mate, k->acl[0], k->acl[1], k->acl[2]);
    }
}

static void show_json(const struct vc_card *c, FILE *f)
{
    uint8_t cuid[10];
    const char *sep = "";
    vc_card_cuid(c, cuid);
    fprintf(f, "{\"cuid\": \"");
    hex(f, cuid, 10);
    fprintf(f, "\", \"msn\": \"");
    hex(f, c->cplc + 41, 4);
    fprintf(f, "\", \"scp\": %d, \"key_version\": %u, \"sequence_counter\": %u, ", c->scp,
            c->keysets[c->cur_keyset].version, c->seq);
    fprintf(f, "\"package\": %s, \"applet\": %s", c->package_loaded ? "true" : "false",
            c->applet_installed ? "true" : "false");
    if (c->applet_installed) {
        fprintf(f, ", \"life_cycle\": %u, \"issuer_info\": \"", c->lifecycle);
        issuer(f, c);
        fprintf(f, "\", \"memory_total\": %u, \"memory_free\": %zu, \"pins\": [", c->mem_size,
                vc_obj_free_mem(c));
        for (size_t i = 0; i < VC_MAX_PINS; i++)
            if (c->pins[i].present) {
                fprintf(f, "%s{\"number\": %zu, \"tries_left\": %u, \"max_tries\": %u}", sep, i,
                        c->pins[i].tries_left, c->pins[i].max_tries);
                sep = ", ";
            }
        fprintf(f, "], \"objects\": [");
        sep = "";
        for (size_t i = c->n_objs; i-- > 0;) {
            const struct vc_object *o = &c->objs[i];
            fprintf(f, "%s{\"id\": \"", sep);
            obj_name(f, o->id);
            fprintf(f,
                    "\", \"size\": %zu, \"acl_read\": %u, \"acl_write\": %u, \"acl_delete\": %u}",
                    o->size, o->acl[0], o->acl[1], o->acl[2]);
            sep = ", ";
        }
        fprintf(f, "], \"keys\": [");
        sep = "";
        for (size_t i = 0; i < VC_MAX_KEYS; i++) {
            const struct vc_key *k = &c->keys[i];
            if (!k->type)
                continue;
            fprintf(f,
                    "%s{\"number\": %zu, \"type\": \"%s\", \"bits\": %u, \"mate\": %d, "
                    "\"acl_read\": %u, \"acl_write\": %u, \"acl_use\": %u}",
                    sep, i, key_type(k->type), k->bits, k->mate, k->acl[0], k->acl[1], k->acl[2]);
            sep = ", ";
        }
        fprintf(f, "]");
    }
    fprintf(f, "}\n");
}

void vc_show(const struct vc_card *c, FILE *f, bool json)
{
    if (json)
        show_json(c, f);
    else
        show_text(c, f);
}
