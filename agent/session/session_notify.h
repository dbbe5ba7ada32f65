/* session_notify: org.freedesktop.Notifications.Notify on the user's session bus (sd-bus). */
#ifndef ESC_SESSION_NOTIFY_H
#define ESC_SESSION_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

/* Show a notification: app "Smart card", icon "auth-smartcard", the urgency hint (0 low,
 * 1 normal, 2 critical), the server's default expiry. The bus is opened for the call and closed
 * after it (notifications are rare, and a session bus that restarted is then found again).
 * 0 with the server's notification id in *id, or -1 with one sentence in `err` (no session
 * bus, no notification server, the server refused it). Bounded by NOTIFY_TIMEOUT_MS. */
#define NOTIFY_TIMEOUT_MS 5000
int notify_send(const char *summary, const char *body, uint8_t urgency, uint32_t *id, char *err,
                size_t errcap);

#endif
