/* pe_cache_pam: the decision cache in a PAM transaction (pe_cache_pam.h, pe_cache.h). */
#include "pe_cache_pam.h"

#include "coolkey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PE_CACHE_DATA "pam_esc_cache_entry"

static bool known(void *arg, const struct pcsc_reader *r, struct probe_facts *out)
{
    struct pe_cache_use *u = arg;

    if (!u->have || !pe_cache_trusted(&u->e, u->pcscd, r, time(NULL), u->need_expiry))
        return false;
    out->state = PROBE_ENROLLED;
    out->life_cycle = CK_LC_PERSONALIZED;
    out->pin_tries_left = u->e.tries;
    out->not_after = u->e.not_after;
    out->ncerts = 1;
    return true;
}

void pe_cache_hook(struct pe_cache_use *u, struct probe_opts *po, bool need_expiry)
{
    memset(u, 0, sizeof *u);
    u->need_expiry = need_expiry;
    u->on = pe_cache_pcscd(u->pcscd, sizeof u->pcscd) && pe_cache_dir(u->dir, sizeof u->dir);
    if (!u->on)
        return;
    u->have = pe_cache_load(u->dir, u->pcscd, &u->e);
    po->known = known;
    po->known_arg = u;
}

static void free_entry(pam_handle_t *pamh, void *data, int status)
{
    (void)pamh;
    (void)status;
    free(data);
}

void pe_cache_decided(pam_handle_t *pamh, struct pe_cache_use *u, const struct probe_facts *f)
{
    struct pe_cache_entry *e, used;

    if (!u->on)
        return;
    /* an entry decides one transaction only: used, stale or damaged, it goes now, before the
     * module after us can send a wrong PIN; pam_sm_setcred writes it again after a success */
    if (u->have)
        pe_cache_retire(u->dir, u->pcscd);
    if (f->state != PROBE_ENROLLED) { /* an operation may follow: nothing of this card holds */
        pe_cache_forget(u->dir, u->pcscd);
        return;
    }
    if (f->event_count == 0 || f->pin_tries_left < 1 || f->atr_len == 0 ||
        f->atr_len > PCSC_ATR_MAX)
        return;
    e = calloc(1, sizeof *e);
    if (!e)
        return;
    snprintf(e->pcscd, sizeof e->pcscd, "%s", u->pcscd);
    snprintf(e->reader, sizeof e->reader, "%s", f->reader);
    e->event_count = f->event_count;
    memcpy(e->atr, f->atr, f->atr_len);
    e->atr_len = f->atr_len;
    e->tries = f->pin_tries_left;
    /* probed after a wrong PIN: written only once a right one brought the count back up, so
     * the count of the last successful login with this card is the closer one (pe_cache.h) */
    if (f->from_cache && f->tries_read) { /* the entry just set aside is this card's */
        if (u->e.tries > e->tries)
            e->tries = u->e.tries;
    } else if (!f->from_cache && pe_cache_load_used(u->dir, u->pcscd, &used) &&
               pe_cache_same_card(&used, e) && used.tries > e->tries) {
        e->tries = used.tries;
    }
    e->not_after = f->not_after > 0 ? f->not_after : 0;
    e->confirmed = true; /* written only by pam_sm_setcred, after a successful login */
    if (pam_set_data(pamh, PE_CACHE_DATA, e, free_entry) != PAM_SUCCESS)
        free(e);
}

void pe_cache_confirm(pam_handle_t *pamh, int flags)
{
    const void *data = NULL;
    struct pe_cache_entry e;
    char dir[PE_CACHE_DIR_MAX];

    if (flags & PAM_DELETE_CRED)
        return;
    if (pam_get_data(pamh, PE_CACHE_DATA, &data) != PAM_SUCCESS || !data ||
        !pe_cache_dir(dir, sizeof dir))
        return;
    e = *(const struct pe_cache_entry *)data;
    pe_cache_store(dir, &e);
}
