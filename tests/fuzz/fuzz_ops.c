/* fuzz_ops: the operation-set parser (common/ops.c) that reads esc.conf's login_operations and
 * pam_esc's operations= (outside input). Input: one list. What is taken holds only known bits;
 * a list is taken exactly when each of its words names an operation by itself. */
#include "ops.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[4096 + 1];
    unsigned bits = 0, each = 0;
    bool all_known = true;

    if (size >= sizeof buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    int rc = esc_ops_parse(buf, &bits);
    if (rc == 0 && (bits & ~CONF_OP_ALL))
        abort();
    /* word by word, as the table reads one name */
    for (const char *p = buf; *p;) {
        size_t n = strcspn(p, " \t,");
        if (n) {
            const struct esc_op *o = esc_op_find(p, n);
            if (o)
                each |= o->bit;
            else if (!(n == 4 && strncasecmp(p, "none", 4) == 0))
                all_known = false;
        }
        p += n;
        p += strspn(p, " \t,");
    }
    if ((rc == 0) != all_known || (rc == 0 && bits != each))
        abort();
    return 0;
}
