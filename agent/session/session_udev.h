/* session_udev: USB CCID reader hot-plug from udev, where udev runs (see session_udev.c). */
#ifndef ESC_SESSION_UDEV_H
#define ESC_SESSION_UDEV_H

#include <stdbool.h>
#include <stddef.h>

typedef struct su_monitor su_monitor;

/* NULL when udev does not run here or cannot be listened to (said once in the log). */
su_monitor *su_open(void);
int su_fd(const su_monitor *m);
/* Read one udev event; true (with a sentence in `what`) when a CCID reader came or went. */
bool su_read(su_monitor *m, char *what, size_t cap);
void su_close(su_monitor *m);

#endif
