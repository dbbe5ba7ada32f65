/* pe_cfg: pam_esc's module options (see pe_cfg.h). */
#include "pe_cfg.h"

#include "conf.h"
#include "ops.h"
#include "probe.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int copy_path(char *dst, size_t cap, const char *v)
{
    if (v[0] != '/' || strlen(v) >= cap)
        return -1;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int copy_seat(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);

    if (n == 0 || n >= cap)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && v[i] != '-' && v[i] != '_')
            return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

static int parse_timeout(const char *v, unsigned *out)
{
    char *end;
    unsigned long n;

    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno || end == v || *end || n < 1 || n > 3600)
        return -1;
    *out = (unsigned)n;
    return 0;
}

static int parse_state(const char *v, int *out)
{
    for (int s = PROBE_NO_PCSCD; s <= PROBE_ERROR; s++)
        if (strcmp(probe_state_name((enum probe_state)s), v) == 0) {
            *out = s;
            return 0;
        }
    return -1;
}

static int parse_one(struct pe_cfg *c, const char *a)
{
    if (strcmp(a, "debug") == 0)
        c->debug = true;
    else if (strcmp(a, "debug_file=stderr") == 0)
        c->debug_stderr = true;
    else if (strcmp(a, "debug_file=syslog") == 0)
        c->debug_stderr = false;
    else if (strcmp(a, "quiet") == 0)
        c->quiet = true;
    else if (strcmp(a, "set_user") == 0)
        c->set_user = true;
    else if (strcmp(a, "no_session") == 0)
        c->no_session = true;
    else if (strcmp(a, "after_failure") == 0)
        c->after_failure = true;
    else if (strncmp(a, "state_dir=", 10) == 0)
        return copy_path(c->state_dir, sizeof c->state_dir, a + 10);
    else if (strcmp(a, "remember") == 0)
        c->remember = true;
    else if (strcmp(a, "no_remember") == 0)
        c->no_remember = true;
    else if (strncmp(a, "conf=", 5) == 0)
        return copy_path(c->conf, sizeof c->conf, a + 5);
    else if (strncmp(a, "helper=", 7) == 0)
        return copy_path(c->helper, sizeof c->helper, a + 7);
    else if (strncmp(a, "test_script=", 12) == 0)
        return copy_path(c->test_script, sizeof c->test_script, a + 12);
    else if (strncmp(a, "test_card_state=", 16) == 0)
        return parse_state(a + 16, &c->test_state);
    else if (strncmp(a, "test_reader_seat=", 17) == 0)
        return copy_seat(c->test_reader_seat, sizeof c->test_reader_seat, a + 17);
    else if (strncmp(a, "timeout=", 8) == 0)
        return parse_timeout(a + 8, &c->timeout_s);
    else if (strncmp(a, "operations=", 11) == 0) {
        c->have_ops = true;
        return esc_ops_parse(a + 11, &c->ops);
    } else
        return -1;
    return 0;
}

int pe_cfg_parse(struct pe_cfg *c, int argc, const char **argv, char *err, unsigned errlen)
{
    int bad = 0;

    memset(c, 0, sizeof *c);
    c->timeout_s = PE_TIMEOUT_DEFAULT;
    c->test_state = -1;
    snprintf(c->helper, sizeof c->helper, "%s/esc-agent", ESC_LIBEXECDIR);
    for (int i = 0; i < argc; i++) {
        if (!argv[i] || parse_one(c, argv[i]) == 0)
            continue;
        if (bad++ == 0 && err && errlen)
            snprintf(err, errlen, "bad module option \"%.100s\"", argv[i]);
    }
    return bad;
}
