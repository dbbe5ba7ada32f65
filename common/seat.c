/* seat: see seat.h. */
#include "seat.h"

#include "safe_file.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UDEV_RECORD_MAX  (64 * 1024)
#define USB_DEVICE_MAJOR 189u
#define CHANNEL_USB      0x0020u

bool seat_logind_running(const char *root)
{
    char path[512];
    struct stat st;

    snprintf(path, sizeof path, "%s%s", root ? root : "", SEAT_LOGIND_DIR);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool valid_seat(const char *s, size_t n)
{
    if (n == 0 || n >= SEAT_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

bool seat_udev_parse(const char *text, size_t len, char *seat, size_t cap)
{
    static const char key[] = "E:ID_SEAT=";
    size_t pos = 0;

    if (!seat || cap == 0)
        return false;
    snprintf(seat, cap, "seat0");
    while (text && pos < len) {
        const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;

        pos += n + 1;
        if (n < sizeof key - 1 || memcmp(line, key, sizeof key - 1) != 0)
            continue;
        line += sizeof key - 1;
        n -= sizeof key - 1;
        if (!valid_seat(line, n) || n >= cap)
            return false;
        memcpy(seat, line, n);
        seat[n] = '\0';
        return true;
    }
    return true;
}

void seat_of_channel(uint32_t channel, const char *udev_dir, char *seat, size_t cap)
{
    unsigned bus = (channel >> 8) & 0xff, addr = channel & 0xff;
    char path[512], buf[UDEV_RECORD_MAX];
    ssize_t r;
    size_t len = 0;
    int fd;

    snprintf(seat, cap, "seat0");
    if ((channel >> 16) != CHANNEL_USB || bus == 0 || addr == 0)
        return;
    snprintf(path, sizeof path, "%s/c%u:%u", udev_dir ? udev_dir : SEAT_UDEV_DIR, USB_DEVICE_MAJOR,
             (bus - 1) * 128 + (addr - 1));
    if (safe_file_open(path, false, &fd, NULL, 0) != ESC_OK)
        return;
    while (len < sizeof buf && (r = read(fd, buf + len, sizeof buf - len)) > 0)
        len += (size_t)r;
    close(fd);
    if (!seat_udev_parse(buf, len, seat, cap))
        snprintf(seat, cap, "seat0");
}
