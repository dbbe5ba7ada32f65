/* session_udev: USB smart-card readers (CCID, interface class 0x0B) plugged in or out, from
 * udev's netlink monitor. pcscd sees the reader too and the PnP pseudo-reader wakes the watcher;
 * this is the wake-up for the case where pcscd's own hot-plug is late or missing. Where udev
 * does not run (containers, the test rig: vpcd readers are not USB devices), it says so once
 * and the daemon carries on with pcscd alone. */
#include "session_udev.h"

#include "log.h"

#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct su_monitor {
    struct udev *udev;
    struct udev_monitor *mon;
};

/* systemd-udevd's control socket: the same test libudev's users make for "udev runs". */
#define UDEV_CONTROL "/run/udev/control"

su_monitor *su_open(void)
{
    su_monitor *m;
    if (access(UDEV_CONTROL, F_OK) != 0) {
        log_info("udev is not running here: readers are seen through pcscd alone");
        return NULL;
    }
    m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->udev = udev_new();
    m->mon = m->udev ? udev_monitor_new_from_netlink(m->udev, "udev") : NULL;
    if (!m->mon ||
        udev_monitor_filter_add_match_subsystem_devtype(m->mon, "usb", "usb_interface") < 0 ||
        udev_monitor_enable_receiving(m->mon) < 0) {
        log_warn("cannot listen to udev: readers are seen through pcscd alone");
        su_close(m);
        return NULL;
    }
    return m;
}

int su_fd(const su_monitor *m)
{
    return udev_monitor_get_fd(m->mon);
}

bool su_read(su_monitor *m, char *what, size_t cap)
{
    struct udev_device *d = udev_monitor_receive_device(m->mon);
    bool ccid = false;
    if (!d)
        return false;
    /* INTERFACE=class/subclass/protocol in decimal, on add and on remove alike */
    const char *itf = udev_device_get_property_value(d, "INTERFACE");
    const char *action = udev_device_get_action(d);
    if (itf && strncmp(itf, "11/", 3) == 0 && action &&
        (strcmp(action, "add") == 0 || strcmp(action, "remove") == 0)) {
        snprintf(what, cap, "USB smart-card reader %s (%s)",
                 strcmp(action, "add") == 0 ? "plugged in" : "unplugged",
                 udev_device_get_devpath(d));
        ccid = true;
    }
    udev_device_unref(d);
    return ccid;
}

void su_close(su_monitor *m)
{
    if (!m)
        return;
    if (m->mon)
        udev_monitor_unref(m->mon);
    if (m->udev)
        udev_unref(m->udev);
    free(m);
}
