/* pe_cache_pam: pe_cache.h at work in a PAM transaction. pam_sm_authenticate hands the probe
 * pe_cache_hook() (the probe asks it before the card is touched), then reports the decision
 * with pe_cache_decided(); pam_sm_setcred calls pe_cache_confirm(). The transaction's entry
 * travels in PAM data (freed by pam_end). */
#ifndef PE_CACHE_PAM_H
#define PE_CACHE_PAM_H

#include "pe_cache.h"
#include "probe.h"

#include <security/pam_modules.h>

struct pe_cache_use {
    bool on;          /* a cache directory exists for this process */
    bool have;        /* an entry was read */
    bool need_expiry; /* renew offered: the entry must know notAfter */
    char dir[PE_CACHE_DIR_MAX];
    char pcscd[PE_CACHE_PCSCD_MAX];
    struct pe_cache_entry e;
};

/* Read the cache and point the probe at it. */
void pe_cache_hook(struct pe_cache_use *u, struct probe_opts *po, bool need_expiry);
/* After the decision: the entry read (used or not) is removed; an ENROLLED card's entry is
 * kept in PAM data for pam_sm_setcred. */
void pe_cache_decided(pam_handle_t *pamh, struct pe_cache_use *u, const struct probe_facts *f);
/* pam_sm_setcred: the transaction authenticated, the entry is written (CONFIRMED). */
void pe_cache_confirm(pam_handle_t *pamh, int flags);

#endif
