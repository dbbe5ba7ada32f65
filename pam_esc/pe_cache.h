/* pe_cache: pam_esc's memory of an enrolled card, so that the login after a successful one
 * decides with no APDU (docs/pam_esc.8 "DECISION CACHE", docs/benchmarks.md "the slow-card
 * model").
 *
 * One entry: pcscd (its socket), the reader, pcscd's insertion/removal counter for it and
 * the card's ATR (the key: the same card has stayed in the reader while all four are
 * unchanged), the PIN tries left and the latest notAfter when it was read.
 *
 * Why a PIN blocked since insertion is still caught: the tries counter drops only through a
 * failed VERIFY, and at this machine's login that VERIFY is sent by the module after pam_esc
 * (pam_pkcs11), in a transaction pam_esc has already left. So an entry decides one
 * transaction only: pam_esc removes the file it read before it returns, and only
 * pam_sm_setcred of a transaction that authenticated (the PIN was right, so the tries are
 * back to their maximum) writes it again (confirmed=1: the only kind on disk). After a
 * failed transaction there is none; the next one probes the card and sees PIN_LOCKED. The entry
 * read is renamed to card-<...>.used (a rename costs what an unlink does, where rewriting
 * would cost a write and a rename in the time to the PIN prompt): never trusted again, it
 * keeps the PIN tries count of the last successful login (the card's maximum: a right PIN
 * brings the count back to it). A probe after a wrong PIN sees one try less; when a login
 * after it succeeds, the entry written takes the larger of the two counts for the same card,
 * so that the next login's after_failure line (pe_offer.h) compares with the count the card
 * really had; writing the entry removes the used one (so that the next rename replaces no file:
 * that would cost ext4 a flush). Any other state than ENROLLED removes both files: the card is
 * about to change.
 * Counter 0
 * (the card was already in when pcscd or the reader started; after a restart another card could
 * have the same key) is never trusted. A card not ENROLLED is never remembered; a hand-off forgets
 * the entry.
 *
 * Where: root (the greeter): /run/pam_esc, 0700 root; anyone else (the lock screen):
 * $XDG_RUNTIME_DIR/pam_esc, 0700, the user's. The directory and the file must be owned by
 * the effective user and not reachable by anybody else, else there is no cache. The file
 * is read with O_NOFOLLOW, bounded, parsed strictly (a damaged one is a miss), replaced
 * atomically (temporary file + rename). */
#ifndef PE_CACHE_H
#define PE_CACHE_H

#include "pcsc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PE_CACHE_FILE_MAX 1024
#define PE_CACHE_DIR_MAX  256

#define PE_CACHE_PCSCD_MAX 160

struct pe_cache_entry {
    char pcscd[PE_CACHE_PCSCD_MAX]; /* pe_cache_pcscd(): which pcscd counted the events */
    char reader[PCSC_READER_NAME_MAX];
    unsigned event_count;
    uint8_t atr[PCSC_ATR_MAX];
    size_t atr_len;
    int tries;         /* PIN tries left when written */
    int64_t not_after; /* latest notAfter; 0: not read (renew not offered) */
    bool confirmed;
};

/* pcscd's identity: its socket's path and inode ("PATH INODE"), so that another pcscd (a
 * private one, or pcscd started again on a new socket) never shares an entry. False: no
 * socket, no cache. */
bool pe_cache_pcscd(char *id, size_t cap);

/* The cache directory for this process (created 0700 if missing). False: no cache here. */
bool pe_cache_dir(char *dir, size_t cap);

/* Parse / format one entry (the file's text). Parse: false on anything but the exact form. */
bool pe_cache_parse(const char *buf, size_t len, struct pe_cache_entry *e);
size_t pe_cache_format(const struct pe_cache_entry *e, char *buf, size_t cap);

/* Entries are kept per pcscd (the file name is a hash of its identity). */
/* Read the entry; false: none, unreadable, not ours, damaged. */
bool pe_cache_load(const char *dir, const char *pcscd, struct pe_cache_entry *e);
/* Replace the entry atomically; false on any failure (then no entry is left either). */
bool pe_cache_store(const char *dir, const struct pe_cache_entry *e);
/* Rename the entry to its used name (pe_cache_load no longer finds it). */
void pe_cache_retire(const char *dir, const char *pcscd);
/* Read the used entry (same checks as pe_cache_load). */
bool pe_cache_load_used(const char *dir, const char *pcscd, struct pe_cache_entry *e);
/* Remove the entry and the used one. */
void pe_cache_forget(const char *dir, const char *pcscd);
/* The same card in the same reader of the same pcscd, since the same insertion (counter not 0). */
bool pe_cache_same_card(const struct pe_cache_entry *a, const struct pe_cache_entry *b);

/* May the entry decide ENROLLED for the card now in reader r? need_expiry: renew is offered,
 * so the entry must know the certificates' notAfter and it must lie ahead of now. */
bool pe_cache_trusted(const struct pe_cache_entry *e, const char *pcscd,
                      const struct pcsc_reader *r, time_t now, bool need_expiry);

#endif
