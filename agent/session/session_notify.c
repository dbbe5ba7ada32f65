/* session_notify: a freedesktop notification over sd-bus (see session_notify.h). The call's
 * shape is the Desktop Notifications Specification's Notify: susssasa{sv}i -> u. */
#include "session_notify.h"

#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

int notify_send(const char *summary, const char *body, uint8_t urgency, uint32_t *id, char *err,
                size_t errcap)
{
    sd_bus *bus = NULL;
    sd_bus_message *m = NULL, *reply = NULL;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int r, rc = -1;

    r = sd_bus_open_user(&bus);
    if (r < 0) {
        snprintf(err, errcap, "no session bus (%s)", strerror(-r));
        goto out;
    }
    r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.Notifications",
                                       "/org/freedesktop/Notifications",
                                       "org.freedesktop.Notifications", "Notify");
    if (r >= 0)
        r = sd_bus_message_append(m, "susssas", "Smart card", (uint32_t)0, "auth-smartcard",
                                  summary, body, 0);
    if (r >= 0)
        r = sd_bus_message_append(m, "a{sv}", 2, "urgency", "y", urgency, "category", "s",
                                  "device");
    if (r >= 0)
        r = sd_bus_message_append(m, "i", (int32_t)-1);
    if (r < 0) {
        snprintf(err, errcap, "cannot build the notification (%s)", strerror(-r));
        goto out;
    }
    r = sd_bus_call(bus, m, (uint64_t)NOTIFY_TIMEOUT_MS * 1000, &e, &reply);
    if (r < 0) {
        snprintf(err, errcap, "the notification was not shown (%s)",
                 e.message ? e.message : strerror(-r));
        goto out;
    }
    r = sd_bus_message_read(reply, "u", id);
    if (r < 0) {
        snprintf(err, errcap, "the notification server's answer is not a notification id");
        goto out;
    }
    rc = 0;
out:
    sd_bus_error_free(&e);
    sd_bus_message_unref(reply);
    sd_bus_message_unref(m);
    sd_bus_flush_close_unref(bus);
    return rc;
}
