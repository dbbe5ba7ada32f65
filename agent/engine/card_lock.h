/* card_lock: one operation per card at a time, across every program of ours and every user.
 *
 * pcscd alone cannot say "busy" without waiting: a second client's SCardBeginTransaction polls
 * until the first ends (pcsc-lite's client retries every 100 ms on a sharing violation), and
 * pcscd holds a second SCardConnect back while a transaction runs, so a second operation would
 * wait for the first and then run after it (re-enrolling the card, the first PIN dead). The
 * lock is taken before the operation's first look at the card and held until its end: a
 * flock(2) on /run/lock/pam_esc-<key>.lock, where the key is a hash of pcscd's socket path and
 * the reader name. /run/lock is the one directory every account can write (mode 1777), so
 * escctl (the user), the session agent (the user) and the PAM-time helper (agent_user) all
 * see the same lock; the kernel drops it when the holder exits, whatever way. A lock file
 * that cannot be opened (made unreadable by another user) is skipped with a warning: the
 * operation's bounded SCardConnect / SCardBeginTransaction (ESC_ERR_CARD_IN_USE) remain. */
#ifndef ESC_CARD_LOCK_H
#define ESC_CARD_LOCK_H

#include "esc_err.h"

#define CARD_LOCK_DIR "/run/lock"

/* Take the lock of `reader` without waiting. ESC_OK (*fd >= 0, or -1 when no lock file could be
 * used), ESC_ERR_CARD_IN_USE when another process holds it. */
esc_err card_lock_take(const char *reader, int *fd);
/* Release (closing the descriptor drops the lock). NULL-safe for fd < 0. */
void card_lock_release(int fd);

#endif
