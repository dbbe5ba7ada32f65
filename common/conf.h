/* conf: esc.conf, `key = value` lines, `#` comments, blank lines.
 *
 * Keys (defaults in conf_defaults(), documented in docs/esc.conf.5 and config/esc.conf):
 *   probe_timeout_ms     1..60000, default 300
 *   login_operations     an operation set (common/ops.h, esc_ops_parse): enroll pinreset
 *                        renew format, or "none"; default "enroll pinreset"
 *   phone_home_url       URL used when the card carries none; default empty
 *   allowed_hosts        host list (see conf_host_list_valid) the agent may contact;
 *                        default empty
 *   allow_http_hosts     host list for which plain http is allowed; default empty
 *   ca_file              extra CA bundle (PEM); default empty
 *   cache_dir            phone-home profile cache; default empty (= agent picks
 *                        $XDG_CACHE_HOME/esc)
 *   tps_message_timeout  seconds per TPS message, 1..3600, default 90
 *                        (ESC's esc.tps.message.timeout)
 *   operation_timeout    seconds for a whole card operation, 1..86400, default 600
 *   card_timeout         seconds for one card command of an operation, 1..3600, default 60
 *   agent_user           account the PAM-time helper runs as; default "esc-agent"
 *   log_level            error|warn|info|debug, default warn
 *   reader               PC/SC reader name to use; default empty (= every reader)
 *   renew_days           the session daemon warns when the card's certificates expire within
 *                        this many days, 0..3650, default 14 (0: no warning)
 *   pin_warn_tries       the session daemon warns when the PIN has this many tries left or
 *                        fewer (but not 0), 0..127, default 2 (0: no warning)
 *   login_services       PAM services pam_esc acts for (the logins and screen locks at the
 *                        machine); default CONF_LOGIN_SERVICES_DEFAULT; empty: none
 * An unknown key, a repeated key, a bad value or a line longer than CONF_LINE_MAX is an error
 * naming file:line. */
#ifndef ESC_CONF_H
#define ESC_CONF_H

#include "esc_err.h"
#include "ops.h"

#include <stdbool.h>
#include <stddef.h>

#define CONF_LINE_MAX  1024
#define CONF_VALUE_MAX 512
#define CONF_FILE_MAX  (64 * 1024)

/* The PAM services of the logins and screen locks at the machine (their /etc/pam.d file names,
 * Debian 12): console login; GDM's password and smart-card conversations (also GNOME Shell's
 * lock screen); SDDM, LightDM (also light-locker), XDM; KDE's lock screen (kscreenlocker:
 * kde, kde-smartcard); the screen lockers' own services; vlock. Not sshd, sudo, su, polkit-1,
 * cron, gdm-fingerprint (no prompt for a PIN there), gdm-autologin, *-greeter. */
#define CONF_LOGIN_SERVICES_DEFAULT                                                                \
    "login gdm-password gdm-smartcard sddm lightdm xdm kde kde-smartcard gnome-screensaver "       \
    "xscreensaver xfce4-screensaver cinnamon-screensaver mate-screensaver i3lock swaylock "        \
    "xlock vlock"

/* login_operations: CONF_OP_* bits of common/ops.h */

struct esc_conf {
    unsigned probe_timeout_ms;
    unsigned login_operations;
    char phone_home_url[CONF_VALUE_MAX];
    char allowed_hosts[CONF_VALUE_MAX];
    char allow_http_hosts[CONF_VALUE_MAX];
    char ca_file[CONF_VALUE_MAX];
    char cache_dir[CONF_VALUE_MAX];
    unsigned tps_message_timeout; /* seconds */
    unsigned operation_timeout;   /* seconds, a whole card operation */
    unsigned card_timeout;        /* seconds, one card command inside an operation */
    char agent_user[64];
    int log_level; /* enum esc_log_level */
    char reader[256];
    unsigned renew_days;
    unsigned pin_warn_tries;
    char login_services[CONF_VALUE_MAX]; /* space-separated PAM service names */
};

void conf_defaults(struct esc_conf *c);

/* The path conf_load(NULL) reads: $ESC_CONF if set and not empty, else
 * ESC_SYSCONFDIR "/pam_esc/esc.conf". */
const char *conf_default_path(void);

/* Fill c with the defaults, then apply the file. path NULL -> conf_default_path(); a missing
 * default file is fine (defaults), a missing file named explicitly (argument or $ESC_CONF)
 * is ESC_ERR_CONF_MISSING. On error err holds "file:line: what" (errlen may be 0). */
esc_err conf_load(const char *path, struct esc_conf *c, char *err, size_t errlen);

/* Parse a buffer (not NUL-terminated necessarily) named `name` into c (applied over what c
 * already holds). Used by conf_load and by the fuzzer. */
esc_err conf_parse(const char *text, size_t len, const char *name, struct esc_conf *c, char *err,
                   size_t errlen);

/* Log at esc.conf's log_level, or at the level the command line set when that is more
 * verbose (escctl's -v, pam_esc's debug option for its helper). Call it after esc_log_init with
 * the command line's level: ESC_LOG_WARN, the default, when it asked for nothing, so that the
 * file may also make the log quieter (log_level = error). */
void conf_apply_log_level(const struct esc_conf *c);

/* login_services: PAM service names (letters, digits, . _ -, as /etc/pam.d file names are),
 * separated by spaces, tabs or commas; empty: none. */
bool conf_service_list_valid(const char *list);

/* Does the space-separated list contain word (case-insensitive)? */
int conf_list_has(const char *list, const char *word);

/* Host lists (allowed_hosts, allow_http_hosts): the one syntax esc.conf accepts and the trust
 * check (agent/engine/trust.h) applies. Entries are separated by spaces, tabs or commas; an entry
 * is tps.example.com   a host name (compared without regard to case) 127.0.0.1         an IPv4
 * address
 *   [::1]             an IPv6 address, in brackets as in a URL
 *   *.example.com     every name with one or more labels in front of example.com (a.example.com,
 *                     a.b.example.com), not example.com itself; `*` only as a whole first label
 * each optionally followed by :PORT (1..65535) to allow that port only. An empty list is valid
 * and allows nothing. */
bool conf_host_list_valid(const char *list);
/* Does `host` (as a URL names it: "[::1]" for IPv6) with `port` match an entry of `list`?
 * An entry that breaks the syntax matches nothing. */
bool conf_host_in_list(const char *host, unsigned port, const char *list);

#endif
