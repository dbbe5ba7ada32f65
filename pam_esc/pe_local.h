/* pe_local: is this a login by the person at the machine? (issue 14, docs/pam-stacks.md)
 *
 * pam_esc starts an operation only for a local login at the machine: PAM_RHOST empty or
 * naming this machine, a service in esc.conf's login_services, and, where logind runs, a card
 * in a reader of the login's own seat. Everything else (sshd, sudo, su, polkit, a login on
 * another seat) is left alone before any card is touched. */
#ifndef PE_LOCAL_H
#define PE_LOCAL_H

#include <security/pam_modules.h>

#include <stdbool.h>
#include <stddef.h>

/* Does PAM_RHOST name this machine? NULL or "" (the application set none), localhost and
 * *.localhost, 127.0.0.0/8, ::1 (bracketed or not, or IPv4-mapped 127.x), this machine's
 * host name (gethostname) or its first label. No name is looked up: no DNS at login. */
bool pe_rhost_is_local(const char *rhost);

/* The seat of the login being authenticated: XDG_SEAT in the PAM environment (GDM, LightDM
 * and pam_systemd's callers set it before authenticating), else seat0 for a virtual console
 * PAM_TTY (tty1..: only seat0 has VTs), else XDG_SEAT of the process (a screen locker in a
 * session), else seat0. */
void pe_session_seat(pam_handle_t *pamh, char *seat, size_t cap);

#endif
