/* pe_local: see pe_local.h. */
#include "pe_local.h"

#include <security/pam_ext.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static bool loopback_address(const char *host)
{
    char buf[64];
    unsigned char a[16];
    size_t n = strlen(host);

    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        host = buf;
    }
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, host, a) != 1)
        return false;
    static const unsigned char loop6[16] = {[15] = 1};
    static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
    return memcmp(a, loop6, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
}

bool pe_rhost_is_local(const char *rhost)
{
    char me[256];
    size_t label;

    if (!rhost || !rhost[0])
        return true;
    if (strcasecmp(rhost, "localhost") == 0 || ends_with_ci(rhost, ".localhost") ||
        strcasecmp(rhost, "localhost.localdomain") == 0 || loopback_address(rhost))
        return true;
    if (gethostname(me, sizeof me) != 0)
        return false;
    me[sizeof me - 1] = '\0';
    if (!me[0])
        return false;
    if (strcasecmp(rhost, me) == 0)
        return true;
    label = strcspn(me, ".");
    return strlen(rhost) == label && strncasecmp(rhost, me, label) == 0;
}

/* "tty3" or "/dev/tty3": a virtual console (not ttyS0, ttyUSB0: serial lines have no seat). */
static bool virtual_console(const char *tty)
{
    if (strncmp(tty, "/dev/", 5) == 0)
        tty += 5;
    if (strncmp(tty, "tty", 3) != 0 || !tty[3])
        return false;
    for (tty += 3; *tty; tty++)
        if (!isdigit((unsigned char)*tty))
            return false;
    return true;
}

void pe_session_seat(pam_handle_t *pamh, char *seat, size_t cap)
{
    const char *s = pam_getenv(pamh, "XDG_SEAT");
    const void *tty = NULL;

    if (!s || !s[0]) {
        if (pam_get_item(pamh, PAM_TTY, &tty) == PAM_SUCCESS && tty &&
            virtual_console((const char *)tty))
            s = "seat0";
        else
            s = getenv("XDG_SEAT");
    }
    snprintf(seat, cap, "%s", s && s[0] ? s : "seat0");
}
