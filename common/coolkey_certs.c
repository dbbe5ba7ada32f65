/* coolkey_certs: see coolkey_certs.h. */
#include "coolkey_certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LISTED 32 /* LIST OBJECTS entries looked at */

void ck_certs_free(struct ck_certs *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n && i < CK_CERTS_MAX; i++) {
        free(c->cert[i].der);
        c->cert[i].der = NULL;
    }
    c->n = 0;
}

/* A status word refusing the read means "not there"; anything else is a card that failed. */
static bool refused(esc_err e)
{
    return e == ESC_ERR_CARD_SW || e == ESC_ERR_NOT_FOUND;
}

static esc_err keep(struct ck_certs *c, uint32_t id, const char *label, const uint8_t *der,
                    size_t len)
{
    struct ck_cert *o;

    if (c->n >= CK_CERTS_MAX) {
        c->note = ESC_ERR_TOO_BIG;
        return ESC_OK;
    }
    o = &c->cert[c->n];
    o->der = malloc(len ? len : 1);
    if (!o->der)
        return ESC_ERR_NOMEM;
    memcpy(o->der, der, len);
    o->der_len = len;
    o->id = id;
    snprintf(o->label, sizeof o->label, "%s", label ? label : "");
    c->n++;
    return ESC_OK;
}

/* The combined layout. A refusal (CARD_SW / NOT_FOUND): the card has no z0. */
static esc_err read_z0(pcsc_card *card, struct ck_certs *c)
{
    uint8_t *obj = malloc(Z0_MAX_OBJECT);
    struct z0_contents zc;
    struct z0_header h;
    size_t need = 0;
    esc_err rv;

    if (!obj)
        return ESC_ERR_NOMEM;
    /* first 255 bytes, as coolkey does (a z0 is at least that long, §4.2) */
    rv = ck_read_object(card, CK_OBJ_Z0, 0, obj, CK_READ_CHUNK);
    if (rv != ESC_OK)
        goto out;
    rv = z0_parse_header(obj, CK_READ_CHUNK, &h);
    if (rv == ESC_OK)
        rv = z0_needed_len(&h, &need);
    if (rv == ESC_OK && need > CK_READ_CHUNK)
        rv = ck_read_object(card, CK_OBJ_Z0, CK_READ_CHUNK, obj + CK_READ_CHUNK,
                            need - CK_READ_CHUNK);
    else if (rv == ESC_OK)
        need = CK_READ_CHUNK;
    if (rv == ESC_OK)
        rv = z0_parse(obj, need, &zc);
    if (rv == ESC_ERR_BAD_OBJECT || rv == ESC_ERR_TOO_BIG) {
        c->note = rv; /* there, but unusable */
        rv = ESC_OK;
        goto out;
    }
    if (rv != ESC_OK)
        goto out;
    memcpy(c->cuid, zc.hdr.cuid, CK_CUID_LEN);
    c->have_cuid = true;
    for (size_t i = 0; rv == ESC_OK && i < zc.ncerts; i++)
        rv =
            keep(c, zc.certs[i].object_id, zc.certs[i].label, zc.certs[i].der, zc.certs[i].der_len);
    z0_free(&zc);
out:
    free(obj);
    return rv;
}

/* The separate layout (§4.2 step 4): every C<n> object holds one DER certificate. */
static esc_err read_separate(pcsc_card *card, struct ck_certs *c)
{
    struct ck_object_info objs[MAX_LISTED];
    size_t n = 0;
    uint8_t *buf;
    esc_err rv = ck_list_objects(card, objs, MAX_LISTED, &n);

    if (rv == ESC_ERR_TOO_BIG) { /* more objects than we look at: the first ones */
        c->note = rv;
        n = MAX_LISTED;
        rv = ESC_OK;
    }
    if (refused(rv))
        return ESC_OK; /* no object list: no certificates */
    if (rv != ESC_OK)
        return rv;
    buf = malloc(CK_C_OBJECT_MAX);
    if (!buf)
        return ESC_ERR_NOMEM;
    for (size_t i = 0; rv == ESC_OK && i < n; i++) {
        if ((objs[i].id >> 24) != 'C' || objs[i].size == 0)
            continue;
        if (objs[i].size > CK_C_OBJECT_MAX) {
            c->note = ESC_ERR_TOO_BIG;
            continue;
        }
        rv = ck_read_object(card, objs[i].id, 0, buf, objs[i].size);
        if (rv == ESC_OK)
            rv = keep(c, objs[i].id, NULL, buf, objs[i].size);
        else if (refused(rv))
            rv = ESC_OK; /* read-protected or gone: skip it */
    }
    free(buf);
    return rv;
}

esc_err ck_read_certs(pcsc_card *card, struct ck_certs *out)
{
    esc_err rv;

    memset(out, 0, sizeof *out);
    rv = read_z0(card, out);
    if (refused(rv))
        rv = read_separate(card, out);
    if (rv != ESC_OK)
        ck_certs_free(out);
    return rv;
}
