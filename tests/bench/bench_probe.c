/* bench_probe READER RUNS [decide]: the card probe's wall time, RUNS times in one process
 * (open context, probe, close: probe_card). With "decide", the decision-only probe pam_esc
 * runs (decide_only, no expiry check: the default login_operations). READER "" = every
 * reader.
 * Prints "state median_us p90_us min_us". */
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmp_u64(const void *a, const void *b)
{
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
    return x < y ? -1 : x > y;
}

static unsigned long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
    if (argc != 3 && !(argc == 4 && strcmp(argv[3], "decide") == 0)) {
        fprintf(stderr, "usage: bench_probe READER RUNS [decide]\n");
        return 2;
    }
    char *end = NULL;
    unsigned long runs = strtoul(argv[2], &end, 10);
    if (!end || *end || runs == 0 || runs > 100000) {
        fprintf(stderr, "bench_probe: RUNS must be 1..100000\n");
        return 2;
    }
    unsigned long long *t = calloc(runs, sizeof *t);
    if (!t)
        return 1;
    struct probe_opts opts = {
        .timeout_ms = 5000, .reader = argv[1][0] ? argv[1] : NULL, .decide_only = argc == 4};
    struct probe_facts f;
    for (unsigned long i = 0; i < runs; i++) {
        unsigned long long t0 = now_us();
        probe_card(&opts, &f);
        t[i] = now_us() - t0;
    }
    /* median: the lower middle; p90: the ceil(0.9 runs)-th value (as run-bench's stats) */
    qsort(t, runs, sizeof *t, cmp_u64);
    printf("%s %llu %llu %llu\n", probe_state_name(f.state), t[(runs - 1) / 2],
           t[(runs * 9 + 9) / 10 - 1], t[0]);
    free(t);
    return 0;
}
