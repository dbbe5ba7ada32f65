/* pe_offer: what pam_esc says or asks about an ENROLLED card (issue 10, docs/pam-stacks.md).
 *
 * - few PIN tries left: one information line before the card login module asks the PIN;
 * - certificates expiring within renew_days: one yes/no question offering a renewal; a "not
 *   now" is remembered for a day in a file of the state directory (never parsed: only its
 *   owner, type and time count), so the next logins of that day ask nothing;
 * - the PIN tries seen by the first pam_esc line, kept in the PAM handle, so that the
 *   after_failure line can tell that the card login that ran in between spent one. */
#ifndef PE_OFFER_H
#define PE_OFFER_H

#include <security/pam_modules.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* "2 PIN tries left on your smart card" when 0 < tries <= warn (warn 0: never). */
void pe_offer_warn_tries(pam_handle_t *pamh, int tries, unsigned warn);

/* One PAM_PROMPT_ECHO_ON question; true only for an answer starting with y or Y. */
bool pe_offer_ask(pam_handle_t *pamh, const char *question);

/* Do certificates with this latest notAfter call for the offer (not yet expired, expiring
 * within days)? */
bool pe_offer_renew_due(int64_t not_after, unsigned days, time_t now);

/* The question, with the date (UTC, YYYY-MM-DD). */
void pe_offer_renew_question(int64_t not_after, char *buf, size_t cap);

/* The state directory: dir if set, else /run/pam_esc as root, else runtime_dir/pam_esc
 * (runtime_dir: the user's $XDG_RUNTIME_DIR). Empty when none can be named. */
void pe_offer_state_dir(const char *dir, const char *runtime_dir, char *out, size_t cap);

/* Did `user` answer "not now" within the last day? Looks in state_dir and, for a user that is
 * not root, in /run/pam_esc too (the greeter's answer counts at the lock screen). */
bool pe_offer_declined(const char *state_dir, const char *user, time_t now);

/* Remember a "not now" (atomic: a new file renamed into place). false: could not. */
bool pe_offer_remember_decline(const char *state_dir, const char *user);

/* The tries the first line saw (-1: none stored). */
void pe_offer_store_tries(pam_handle_t *pamh, int tries);
int pe_offer_stored_tries(pam_handle_t *pamh);

/* A login name as pam_esc accepts one from the agent (for PAM_USER) or uses in a file name:
 * letters, digits and . _ - @, 1..64 of them, not starting with . or -. */
bool pe_user_name_ok(const char *u);

#endif
