/* vc_objects.c: the applet's object store and its commands (CREATE, WRITE, READ, DELETE,
 * LIST OBJECTS; coolkey-card.md §2.2) with the ACL rules of CardEdge/ObjectManager, and the
 * transient IO buffer addressed as object FFFFFFFF (or FFFFFFFE). */
#include "vc_card.h"

#include <stdlib.h>
#include <string.h>

bool vc_is_iobuf_id(const uint8_t id[4])
{
    return id[0] == 0xFF && id[1] == 0xFF && id[2] == 0xFF && (id[3] == 0xFF || id[3] == 0xFE);
}

static bool allowed(const struct vc_card *c, uint16_t acl)
{
    return (acl & c->auth_id) != 0;
}

struct vc_object *vc_obj_find(struct vc_card *c, const uint8_t id[4])
{
    for (size_t i = 0; i < c->n_objs; i++)
        if (memcmp(c->objs[i].id, id, 4) == 0)
            return &c->objs[i];
    return NULL;
}

size_t vc_obj_free_mem(const struct vc_card *c)
{
    size_t used = 0;
    for (size_t i = 0; i < c->n_objs; i++)
        used += c->objs[i].size;
    return used < c->mem_size ? c->mem_size - used : 0;
}

struct vc_object *vc_obj_add(struct vc_card *c, const uint8_t id[4], size_t size,
                             const uint16_t acl[3])
{
    if (c->n_objs == VC_MAX_OBJS || size == 0 || size > vc_obj_free_mem(c))
        return NULL;
    uint8_t *d = calloc(1, size);
    if (!d)
        return NULL;
    struct vc_object *o = &c->objs[c->n_objs++];
    memcpy(o->id, id, 4);
    memcpy(o->acl, acl, sizeof(o->acl));
    o->data = d;
    o->size = size;
    c->dirty = true;
    return o;
}

void vc_obj_delete(struct vc_card *c, struct vc_object *o)
{
    size_t i = (size_t)(o - c->objs);
    explicit_bzero(o->data, o->size);
    free(o->data);
    memmove(&c->objs[i], &c->objs[i + 1], (c->n_objs - i - 1) * sizeof(c->objs[0]));
    c->n_objs--;
    memset(&c->objs[c->n_objs], 0, sizeof(c->objs[0]));
    c->dirty = true;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* 14-byte entries, newest object first (ObjectManager inserts at the list head). */
uint16_t vc_cmd_list_objects(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    if (a->p2 != 0)
        return SW_BAD_P2;
    if (a->p3 < 14)
        return SW_WRONG_LENGTH;
    if (a->p1 == 0)
        c->list_obj_next = 0;
    else if (a->p1 != 1)
        return SW_BAD_P1;
    if (c->list_obj_next >= c->n_objs)
        return SW_SEQ_END;
    const struct vc_object *o = &c->objs[c->n_objs - 1 - c->list_obj_next++];
    memcpy(r->data, o->id, 4);
    r->data[4] = r->data[5] = 0;
    r->data[6] = (uint8_t)(o->size >> 8);
    r->data[7] = (uint8_t)o->size;
    for (int i = 0; i < 3; i++) {
        r->data[8 + 2 * i] = (uint8_t)(o->acl[i] >> 8);
        r->data[9 + 2 * i] = (uint8_t)o->acl[i];
    }
    r->len = 14;
    return SW_OK;
}

/* objID(4) size(4) readACL writeACL deleteACL; with the RA identity an existing object is
 * replaced, otherwise 9C08 (CA CreateObject). */
uint16_t vc_cmd_create_object(struct vc_card *c, const struct vc_apdu *a)
{
    if (!allowed(c, c->create_obj_acl))
        return SW_UNAUTHORIZED;
    if (a->lc != 14)
        return SW_INVALID_PARAM;
    if (a->p1 != 0)
        return SW_BAD_P1;
    const uint8_t *d = a->data;
    if (get16(d + 4) != 0 || d[6] >= 0x80)
        return SW_NO_MEMORY;
    size_t size = get16(d + 6);
    if (size == 0)
        return SW_INVALID_PARAM;
    if (vc_is_iobuf_id(d)) {
        if (size > VC_IOBUF_MAX)
            return SW_NO_MEMORY;
        c->iobuf_size = size;
        return SW_OK;
    }
    struct vc_object *o = vc_obj_find(c, d);
    if (o) {
        if (!(c->auth_id & VC_ID_RA))
            return SW_OBJ_EXISTS;
        vc_obj_delete(c, o);
    }
    const uint16_t acl[3] = {get16(d + 8), get16(d + 10), get16(d + 12)};
    if (!vc_obj_add(c, d, size, acl))
        return SW_NO_MEMORY;
    return SW_OK;
}

uint16_t vc_cmd_delete_object(struct vc_card *c, const struct vc_apdu *a)
{
    if (a->p1 != 0)
        return SW_BAD_P1;
    if (a->p2 != 0 && a->p2 != 1)
        return SW_BAD_P2;
    if (a->lc != 4)
        return SW_INVALID_PARAM;
    if (vc_is_iobuf_id(a->data)) {
        explicit_bzero(c->iobuf, sizeof(c->iobuf));
        c->iobuf_size = 0;
        return SW_OK;
    }
    struct vc_object *o = vc_obj_find(c, a->data);
    if (!o)
        return SW_OBJ_NOT_FOUND;
    if (!allowed(c, o->acl[2]))
        return SW_UNAUTHORIZED;
    vc_obj_delete(c, o);
    return SW_OK;
}

/* objID(4) offset(4) len(1); the applet uses the low 16 bits of the offset only. */
uint16_t vc_cmd_read_object(struct vc_card *c, const struct vc_apdu *a, struct vc_resp *r)
{
    if (a->p1 != 0)
        return SW_BAD_P1;
    if (a->p2 != 0)
        return SW_BAD_P2;
    if (a->lc != 9)
        return SW_INVALID_PARAM;
    size_t off = get16(a->data + 6), n = a->data[8];
    if (off >= 0x8000)
        return SW_INVALID_PARAM;
    const uint8_t *src;
    if (vc_is_iobuf_id(a->data)) {
        if (off + n > c->iobuf_size)
            return SW_INVALID_PARAM;
        src = c->iobuf + off;
    } else {
        struct vc_object *o = vc_obj_find(c, a->data);
        if (!o)
            return SW_OBJ_NOT_FOUND;
        if (!allowed(c, o->acl[0]))
            return SW_UNAUTHORIZED;
        if (off + n > o->size)
            return SW_INVALID_PARAM;
        src = o->data + off;
    }
    memcpy(r->data, src, n);
    r->len = n;
    return SW_OK;
}

/* objID(4) offset(4) len(1) data(len). Writing the IO buffer sets its size to offset+len. */
uint16_t vc_cmd_write_object(struct vc_card *c, const struct vc_apdu *a)
{
    if (a->p1 != 0)
        return SW_BAD_P1;
    if (a->p2 != 0)
        return SW_BAD_P2;
    if (a->lc < 9 || a->lc != 9 + (size_t)a->data[8])
        return SW_INVALID_PARAM;
    size_t off = get16(a->data + 6), n = a->data[8];
    if (off >= 0x8000)
        return SW_INVALID_PARAM;
    if (vc_is_iobuf_id(a->data)) {
        if (off + n > VC_IOBUF_MAX)
            return SW_INVALID_PARAM;
        memcpy(c->iobuf + off, a->data + 9, n);
        c->iobuf_size = off + n;
        return SW_OK;
    }
    struct vc_object *o = vc_obj_find(c, a->data);
    if (!o)
        return SW_OBJ_NOT_FOUND;
    if (!allowed(c, o->acl[1]))
        return SW_UNAUTHORIZED;
    if (off + n > o->size)
        return SW_INVALID_PARAM;
    memcpy(o->data + off, a->data + 9, n);
    c->dirty = true;
    return SW_OK;
}
