/* safe_file: open a file that decides policy (esc.conf, the ca_file it names) without
 * blocking on it and, for root, only if nobody but root could have written it.
 *
 * Every caller: the file is opened with O_NONBLOCK (a FIFO or a device in its place cannot
 * hang the open), fstat()ed on the descriptor and refused unless it is a regular file; then
 * O_NONBLOCK is cleared for the reads.
 *
 * When `strict` (pam_esc and anything else running as root): the rule of OpenSSH's
 * secure_filename/safe_path (auth.c), where the only trusted owner is root:
 *   - the path is resolved (realpath) and the resolved file is opened with O_NOFOLLOW;
 *   - the file, each directory of its resolved path up to /, and each component of the path
 *     as it was named (lstat: a symlink there is judged by its owner, a directory also by its
 *     mode) must be owned by root and not writable by group or others;
 *   - except a directory that is writable by others but root's and sticky (/tmp): there
 *     nobody but root can rename or remove what root owns, so it cannot be swapped.
 * A symlink is followed, but only through places root alone controls: /etc/pam_esc/esc.conf
 * may point to /srv/conf/esc.conf, never into a user's home. */
#ifndef ESC_SAFE_FILE_H
#define ESC_SAFE_FILE_H

#include "esc_err.h"

#include <stdbool.h>
#include <stddef.h>

/* Open `path` read-only as above; *fd is the open descriptor (close-on-exec, blocking) on
 * ESC_OK. Errors: ESC_ERR_CONF_MISSING (ENOENT), ESC_ERR_CONF (when strict: writable or owned
 * by someone other than root), ESC_ERR_IO (not a regular file, other errors); err
 * then holds "PATH: why" (errlen may be 0). */
esc_err safe_file_open(const char *path, bool strict, int *fd, char *err, size_t errlen);

#endif
