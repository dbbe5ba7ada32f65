/* fuzz_pe_cfg: pam_esc's module options (pam_esc/pe_cfg.c), the argv a PAM stack line gives.
 * Input: the arguments, one per line. Every argument is either taken or named as bad; what is
 * taken is always in range: a timeout of 1..3600 s, absolute NUL-terminated paths, a known card
 * state, only known operation bits. */
#include "conf.h"
#include "pe_cfg.h"
#include "probe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *p, size_t cap, bool may_be_empty)
{
    size_t n = strnlen(p, cap);
    if (n == cap || (n == 0 && !may_be_empty) || (n > 0 && p[0] != '/'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[8192 + 1];
    const char *argv[MAX_ARGS];
    int argc = 0;
    struct pe_cfg c;
    char err[128];

    if (size >= sizeof buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    for (char *p = buf; argc < MAX_ARGS;) {
        argv[argc++] = p;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = 0;
        p = nl + 1;
    }
    err[0] = 0;
    int bad = pe_cfg_parse(&c, argc, argv, err, sizeof err);
    if (bad < 0 || bad > argc || (bad > 0) != (err[0] != 0) ||
        strnlen(err, sizeof err) == sizeof err)
        abort();
    if (c.timeout_s < 1 || c.timeout_s > 3600)
        abort();
    check_path(c.conf, sizeof c.conf, true);
    check_path(c.helper, sizeof c.helper, false);
    check_path(c.test_script, sizeof c.test_script, true);
    if (c.test_state != -1 && (c.test_state < PROBE_NO_PCSCD || c.test_state > PROBE_ERROR))
        abort();
    if (c.have_ops && (c.ops & ~CONF_OP_ALL))
        abort();
    return 0;
}
