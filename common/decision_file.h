/* decision_file: where pam_esc remembers a card (pam_esc/pe_cache.h), named here so that the
 * agent, which changes cards, can forget exactly the entries of the pcscd it used and leave
 * those of another pcscd (another seat's, a test rig's) alone.
 *   root: /run/pam_esc; anyone else: $XDG_RUNTIME_DIR/pam_esc (as the process sees it)
 *   the file: card-<FNV-1a of pcscd's identity, 8 hex digits>; an entry pam_esc has used is
 *   kept as card-<...>.used (never trusted, only its PIN tries count is read again)
 *   pcscd's identity: "<socket path> <socket inode>" (PCSCLITE_CSOCK_NAME, as libpcsclite
 *   uses it, else /run/pcscd/pcscd.comm) */
#ifndef ESC_DECISION_FILE_H
#define ESC_DECISION_FILE_H

#include <stdbool.h>
#include <stddef.h>

#define DECISION_PCSCD_SOCKET "/run/pcscd/pcscd.comm" /* libpcsclite's default */
#define DECISION_USED_SUFFIX  ".used"

/* pcscd's identity; false when its socket is missing (then nothing is remembered). */
bool decision_pcscd_id(char *id, size_t cap);
/* The cache directory's path for this process (not created, not checked); false: none. */
bool decision_dir(char *dir, size_t cap);
/* DIR/card-HASH for the identity, or (used) its used entry DIR/card-HASH.used; false if it
 * does not fit. */
bool decision_path(const char *dir, const char *pcscd_id, bool used, char *path, size_t cap);
/* Remove this process's entries (the entry and the used one) for the pcscd it uses (after an
 * operation changed the card). */
void decision_forget(void);

#endif
