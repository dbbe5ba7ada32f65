/* bench_p11 MODULE RUNS: what `pkcs11-tool -L` does, in-process, RUNS times: C_Initialize,
 * C_GetSlotList, C_GetSlotInfo and (for slots holding a token) C_GetTokenInfo, C_Finalize.
 * The module is loaded once, so this is the module's own time without process start-up or
 * dynamic loading: the in-process peer of bench_probe.
 * Prints "<tokens> <median_us> <p90_us> <min_us>" (tokens seen in the last run). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The few PKCS#11 v2 declarations needed (ABI of the standard's pkcs11.h on Linux). */
typedef unsigned long ck_rv;
typedef unsigned long ck_ulong;
typedef ck_rv (*fn_initialize)(void *);
typedef ck_rv (*fn_finalize)(void *);
typedef ck_rv (*fn_get_slot_list)(unsigned char, ck_ulong *, ck_ulong *);
typedef ck_rv (*fn_get_info)(ck_ulong, void *); /* C_GetSlotInfo, C_GetTokenInfo */
#define CKR_OK            0UL
#define CKF_TOKEN_PRESENT 1UL
#define MAX_SLOTS         32

struct slot_info { /* CK_SLOT_INFO */
    unsigned char description[64];
    unsigned char manufacturer[32];
    ck_ulong flags;
    unsigned char hw[2], fw[2];
};

struct p11 {
    fn_initialize init;
    fn_finalize fin;
    fn_get_slot_list slots;
    fn_get_info slot_info, token_info;
};

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* One `-L`: returns the number of slots holding a token, or -1 on an error. */
static int list_once(const struct p11 *m)
{
    ck_ulong ids[MAX_SLOTS], n = MAX_SLOTS;
    /* CK_TOKEN_INFO is 208 bytes on LP64; a generous, aligned buffer */
    ck_ulong token[64];
    struct slot_info si;
    int tokens = 0;

    if (m->init(NULL) != CKR_OK)
        return -1;
    if (m->slots(0, ids, &n) != CKR_OK || n > MAX_SLOTS) {
        m->fin(NULL);
        return -1;
    }
    for (ck_ulong i = 0; i < n; i++) {
        if (m->slot_info(ids[i], &si) != CKR_OK)
            continue;
        if ((si.flags & CKF_TOKEN_PRESENT) && m->token_info(ids[i], token) == CKR_OK)
            tokens++;
    }
    m->fin(NULL);
    return tokens;
}

int main(int argc, char **argv)
{
    struct p11 m;
    void *lib;
    char *end = NULL;
    unsigned long runs;
    long long *t;
    int tokens = -1;

    if (argc != 3) {
        fprintf(stderr, "usage: bench_p11 MODULE RUNS\n");
        return 2;
    }
    runs = strtoul(argv[2], &end, 10);
    if (!end || *end || runs == 0 || runs > 100000) {
        fprintf(stderr, "bench_p11: RUNS must be 1..100000\n");
        return 2;
    }
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "bench_p11: %s\n", dlerror());
        return 1;
    }
    *(void **)&m.init = dlsym(lib, "C_Initialize");
    *(void **)&m.fin = dlsym(lib, "C_Finalize");
    *(void **)&m.slots = dlsym(lib, "C_GetSlotList");
    *(void **)&m.slot_info = dlsym(lib, "C_GetSlotInfo");
    *(void **)&m.token_info = dlsym(lib, "C_GetTokenInfo");
    if (!m.init || !m.fin || !m.slots || !m.slot_info || !m.token_info) {
        fprintf(stderr, "bench_p11: %s lacks a PKCS#11 entry point\n", argv[1]);
        return 1;
    }
    t = calloc(runs, sizeof *t);
    if (!t)
        return 1;
    for (unsigned long i = 0; i < runs; i++) {
        long long t0 = now_us();
        tokens = list_once(&m);
        t[i] = now_us() - t0;
    }
    /* median: the lower middle; p90: the ceil(0.9 runs)-th value (as run-bench's stats) */
    qsort(t, runs, sizeof *t, cmp_ll);
    printf("%d %lld %lld %lld\n", tokens, t[(runs - 1) / 2], t[(runs * 9 + 9) / 10 - 1], t[0]);
    free(t);
    /* no dlclose: coolkey leaves threads of its own behind on some versions */
    return tokens < 0;
}
