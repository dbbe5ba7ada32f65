/* test_seat: which seat a reader is on and whether a login is at the machine (issue 14):
 * udev database records (ID_SEAT, missing, hostile), the CCID channel ID -> c189:<minor>
 * record, logind's presence; PAM_RHOST naming this machine or another; the login's seat from
 * the PAM environment, a virtual console, the process environment. */
#include "check.h"
#include "pe_local.h"
#include "seat.h"

#include <security/pam_appl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tdir[64];

static void put(const char *name, const char *text)
{
    char p[160];
    FILE *f;

    snprintf(p, sizeof p, "%s/%s", tdir, name);
    if ((f = fopen(p, "w"))) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_udev_record(void)
{
    char seat[SEAT_NAME_MAX];
    const char *rec = "I:123\nE:ID_VENDOR=Gemalto\nE:ID_SEAT=seat1\nG:seat\nQ:seat1\n";
    const char *none = "I:123\nE:ID_VENDOR=Gemalto\nG:uaccess\n";

    EXPECT(seat_udev_parse(rec, strlen(rec), seat, sizeof seat));
    EXPECT_STR(seat, "seat1");
    EXPECT(seat_udev_parse(none, strlen(none), seat, sizeof seat));
    EXPECT_STR(seat, "seat0");
    EXPECT(seat_udev_parse(NULL, 0, seat, sizeof seat));
    EXPECT_STR(seat, "seat0");
    /* a value that is no seat name, or cut short by the buffer: refused */
    EXPECT(!seat_udev_parse("E:ID_SEAT=seat1/../x\n", 20, seat, sizeof seat));
    EXPECT(!seat_udev_parse("E:ID_SEAT=\n", 11, seat, sizeof seat));
    EXPECT(!seat_udev_parse("E:ID_SEAT=seat12345", 19, seat, 6));
    /* not a line of its own: not the property */
    EXPECT(seat_udev_parse("E:XID_SEAT=seat1\n", 17, seat, sizeof seat));
    EXPECT_STR(seat, "seat0");
}

static void test_seat_of_channel(void)
{
    char seat[SEAT_NAME_MAX];

    snprintf(tdir, sizeof tdir, "/tmp/test_seat.XXXXXX");
    EXPECT(mkdtemp(tdir) != NULL);
    /* bus 3, address 7: minor (3-1)*128 + (7-1) = 262 */
    put("c189:262", "E:ID_SEAT=seat1\n");
    put("c189:0", "E:ID_SEAT=seat2\n");
    seat_of_channel(0x00200307, tdir, seat, sizeof seat);
    EXPECT_STR(seat, "seat1");
    seat_of_channel(0x00200101, tdir, seat, sizeof seat);
    EXPECT_STR(seat, "seat2");
    /* another USB device with no record: seat0, as logind has it */
    seat_of_channel(0x00200308, tdir, seat, sizeof seat);
    EXPECT_STR(seat, "seat0");
    /* not USB (serial port 1), or address 0: nothing to look up */
    seat_of_channel(0x00010001, tdir, seat, sizeof seat);
    EXPECT_STR(seat, "seat0");
    seat_of_channel(0x00200300, tdir, seat, sizeof seat);
    EXPECT_STR(seat, "seat0");
    /* a FIFO in the database does not hang the lookup */
    {
        char p[160];
        snprintf(p, sizeof p, "%s/c189:1", tdir);
        EXPECT(mkfifo(p, 0644) == 0);
        seat_of_channel(0x00200102, tdir, seat, sizeof seat);
        EXPECT_STR(seat, "seat0");
    }
}

static void test_logind_running(void)
{
    char p[160];

    EXPECT(!seat_logind_running(tdir));
    snprintf(p, sizeof p, "%s/run/systemd/seats", tdir);
    {
        char cmd[200];
        snprintf(cmd, sizeof cmd, "mkdir -p %s", p);
        EXPECT(system(cmd) == 0);
    }
    EXPECT(seat_logind_running(tdir));
}

static void test_rhost(void)
{
    char me[256];

    EXPECT(pe_rhost_is_local(NULL));
    EXPECT(pe_rhost_is_local(""));
    EXPECT(pe_rhost_is_local("localhost"));
    EXPECT(pe_rhost_is_local("LocalHost"));
    EXPECT(pe_rhost_is_local("a.localhost"));
    EXPECT(pe_rhost_is_local("127.0.0.1"));
    EXPECT(pe_rhost_is_local("127.1.2.3"));
    EXPECT(pe_rhost_is_local("::1"));
    EXPECT(pe_rhost_is_local("[::1]"));
    EXPECT(pe_rhost_is_local("::ffff:127.0.0.1"));
    EXPECT(!pe_rhost_is_local("192.0.2.7"));
    EXPECT(!pe_rhost_is_local("2001:db8::1"));
    EXPECT(!pe_rhost_is_local("::ffff:192.0.2.7"));
    EXPECT(!pe_rhost_is_local("attacker.example.com"));
    EXPECT(!pe_rhost_is_local("localhost.attacker.example.com"));
    EXPECT(!pe_rhost_is_local("128.0.0.1"));
    EXPECT(gethostname(me, sizeof me) == 0);
    EXPECT(pe_rhost_is_local(me));
    {
        char other[300];
        snprintf(other, sizeof other, "%s.attacker.example", me);
        EXPECT(!pe_rhost_is_local(other));
        snprintf(other, sizeof other, "x%s", me);
        EXPECT(!pe_rhost_is_local(other));
    }
}

static int conv(int n, const struct pam_message **m, struct pam_response **r, void *d)
{
    (void)n;
    (void)m;
    (void)r;
    (void)d;
    return PAM_CONV_ERR;
}

static void test_session_seat(void)
{
    struct pam_conv c = {conv, NULL};
    pam_handle_t *h = NULL;
    char s_env[SEAT_NAME_MAX], s_tty[SEAT_NAME_MAX], s_proc[SEAT_NAME_MAX], s_serial[SEAT_NAME_MAX],
        s_none[SEAT_NAME_MAX];

    put("login", "auth required pam_permit.so\n");
    EXPECT(pam_start_confdir("login", "jsmith", &c, tdir, &h) == PAM_SUCCESS);
    unsetenv("XDG_SEAT");
    pe_session_seat(h, s_none, sizeof s_none);
    setenv("XDG_SEAT", "seat3", 1);
    pe_session_seat(h, s_proc, sizeof s_proc);
    pam_set_item(h, PAM_TTY, "/dev/ttyS0");
    pe_session_seat(h, s_serial, sizeof s_serial);
    pam_set_item(h, PAM_TTY, "tty2");
    pe_session_seat(h, s_tty, sizeof s_tty);
    pam_putenv(h, "XDG_SEAT=seat1");
    pe_session_seat(h, s_env, sizeof s_env);
    pam_end(h, PAM_SUCCESS);
    unsetenv("XDG_SEAT");
    EXPECT_STR(s_none, "seat0");
    EXPECT_STR(s_proc, "seat3");   /* a screen locker inside its session */
    EXPECT_STR(s_serial, "seat3"); /* a serial line is no seat's: the process's word */
    EXPECT_STR(s_tty, "seat0");    /* a virtual console is seat0's */
    EXPECT_STR(s_env, "seat1");    /* what the greeter put in the PAM environment first */
}

int main(void)
{
    RUN(test_udev_record);
    RUN(test_seat_of_channel);
    RUN(test_logind_running);
    RUN(test_rhost);
    RUN(test_session_seat);
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tdir);
        if (tdir[0] && system(cmd) != 0)
            printf("(could not remove %s)\n", tdir);
    }
    return check_status();
}
