/* escctl certs: read the certificate objects off the card (escctl_certs.h): the named reader
 * (else the first holding a card), one transaction, SELECT CoolKey, then common/coolkey_certs
 * (the probe reads them the same way). No VERIFY is sent. */
#include "escctl_certs.h"

#include "coolkey_certs.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void certs_card_free(struct certs_card *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n && i < CERTS_MAX; i++) {
        free(c->obj[i].der);
        c->obj[i].der = NULL;
    }
    c->n = 0;
}

/* SELECT the applet, then every certificate (common/coolkey_certs), moved into out. */
static esc_err read_objects(pcsc_card *card, struct certs_card *c)
{
    struct ck_certs cc;
    esc_err rv = ck_select(card);

    if (rv == ESC_OK)
        rv = ck_read_certs(card, &cc);
    if (rv != ESC_OK)
        return rv;
    c->note = cc.note;
    if (cc.have_cuid) {
        ck_cuid_hex(cc.cuid, c->cuid_hex);
        c->have_cuid = true;
    }
    for (size_t i = 0; i < cc.n && i < CERTS_MAX; i++) {
        struct certs_obj *o = &c->obj[c->n++];
        o->der = cc.cert[i].der; /* ownership moves to out */
        o->der_len = cc.cert[i].der_len;
        cc.cert[i].der = NULL;
        ck_obj_id_str(cc.cert[i].id, o->id);
        snprintf(o->label, sizeof o->label, "%s", cc.cert[i].label);
    }
    ck_certs_free(&cc);
    return ESC_OK;
}

/* The named reader, else the first holding a card. */
static esc_err pick_reader(pcsc_ctx *ctx, const char *want, struct pcsc_reader *out)
{
    struct pcsc_reader readers[PCSC_MAX_READERS];
    size_t nr = 0;
    esc_err rv = pcsc_list_readers(ctx, readers, PCSC_MAX_READERS, &nr);

    if (rv != ESC_OK)
        return rv;
    for (size_t i = 0; i < nr; i++) {
        if (want ? strcmp(want, readers[i].name) != 0 : !readers[i].card_present)
            continue;
        *out = readers[i];
        if (!out->card_present)
            return ESC_ERR_NO_CARD;
        return out->card_mute ? ESC_ERR_CARD_MUTE : ESC_OK;
    }
    if (want)
        snprintf(out->name, sizeof out->name, "%s", want);
    return want ? ESC_ERR_NO_READER : ESC_ERR_NO_CARD;
}

esc_err certs_read_card(const char *reader, unsigned timeout_ms, struct certs_card *out)
{
    struct pcsc_reader r;
    pcsc_ctx *ctx = NULL;
    pcsc_card *card = NULL;
    esc_err rv;

    memset(out, 0, sizeof *out);
    memset(&r, 0, sizeof r);
    if (reader && !*reader)
        reader = NULL;
    rv = pcsc_open(&ctx, timeout_ms);
    if (rv == ESC_OK)
        rv = pick_reader(ctx, reader, &r);
    snprintf(out->reader, sizeof out->reader, "%s", r.name);
    if (rv == ESC_OK)
        rv = pcsc_connect(ctx, r.name, &card);
    if (rv != ESC_OK)
        goto out;
    rv = pcsc_begin(card);
    if (rv != ESC_OK)
        goto out;
    rv = read_objects(card, out);
    pcsc_end(card);
out:
    pcsc_disconnect(card, false);
    pcsc_close(ctx);
    if (rv != ESC_OK) {
        log_debug("certs: %s: %s", out->reader, esc_err_name(rv));
        certs_card_free(out);
    }
    return rv;
}
