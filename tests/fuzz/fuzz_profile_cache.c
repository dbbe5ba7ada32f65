/* fuzz_profile_cache: the profile cache reader on hostile files: the input is written as the
 * cache file of one CUID and loaded; a load that succeeds must give back only printable
 * values, and storing that profile again must load to the same values. */
#include "engine/phone_home.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void cleanup(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/00AA.profile", dir);
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ph_profile p, q;
    static unsigned files;
    char path[128], err[256];
    if (ph_cache_parse((const char *)data, size, &p) == 0) {
        for (const char *c = p.operation; *c; c++)
            if ((unsigned char)*c < 0x20)
                __builtin_trap();
    }
    /* the file path (open, size checks, store + reload) for one input in 64: it fsyncs */
    if ((files++ & 63) != 0)
        return 0;
    if (!dir[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz_pc_XXXXXX");
        if (!mkdtemp(path))
            return 0;
        snprintf(dir, sizeof dir, "%s", path);
        atexit(cleanup);
    }
    snprintf(path, sizeof path, "%s/00AA.profile", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    if (ph_cache_load(dir, "00AA", &p) == 0 && ph_cache_store(dir, &p, err, sizeof err) == 0) {
        if (ph_cache_load(dir, p.cuid, &q) != 0 || strcmp(p.operation, q.operation) != 0 ||
            p.fetched_at != q.fetched_at)
            __builtin_trap();
    }
    return 0;
}
