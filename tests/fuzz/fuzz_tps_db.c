/* fuzz_tps_db: the reference TPS's token-database line parser and fault-file parser
 * (tests/tps/tpsd_db.c, tpsd_faults.c): files a test or a person may edit by hand. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpsd_db.h"
#include "tpsd_faults.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    struct tpsd_token t;
    struct tpsd_faults f;
    char line[4096];
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (tpsd_db_parse_line(s, &t) == 0)
        tpsd_db_format_line(&t, line, sizeof(line));
    tpsd_faults_parse(&f, s);
    free(s);
    return 0;
}
