/* seat: which logind seat a smart-card reader belongs to, without linking libudev or
 * libsystemd (pam_esc links only libpcsclite, libz and libpam).
 *
 * logind's rule: a device belongs to the seat its udev property ID_SEAT names, seat0 when it
 * has none; udev's 73-seat-late.rules copies ID_SEAT from the parent to every device, so a
 * USB reader plugged into a hub assigned to seat1 (loginctl attach) carries ID_SEAT=seat1.
 * udev keeps each device's properties in its database, /run/udev/data/<id>, one "E:KEY=value"
 * per line; a USB device's <id> is "c189:<minor>" (its character device; the kernel numbers
 * it (bus - 1) * 128 + (address - 1)). The PC/SC reader is tied to its USB device by the
 * channel ID the CCID driver gives (pcsc_reader_channel: bus and address).
 *
 * Where logind does not run (no /run/systemd/seats, as on the rig) there are no seats: the
 * rule is not applied (seat_logind_running). */
#ifndef ESC_SEAT_H
#define ESC_SEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEAT_NAME_MAX   64
#define SEAT_UDEV_DIR   "/run/udev/data"
#define SEAT_LOGIND_DIR "/run/systemd/seats"

/* Does logind run (its seat directory exists, as sd_get_seats reads it)? root NULL: "/". */
bool seat_logind_running(const char *root);

/* ID_SEAT in a udev database record (len bytes, not NUL-terminated); "seat0" when it has
 * none. false when the value is not a plausible seat name (letters, digits, - and _). */
bool seat_udev_parse(const char *text, size_t len, char *seat, size_t cap);

/* The seat of the reader whose PC/SC channel ID is `channel`, from the udev database in
 * udev_dir (NULL: SEAT_UDEV_DIR). A reader that is not USB, or whose record is missing or
 * unreadable, is seat0's (logind's default). */
void seat_of_channel(uint32_t channel, const char *udev_dir, char *seat, size_t cap);

#endif
