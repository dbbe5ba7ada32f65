/* bench_probe READER RUNS [decide|confirm|remember]: the card probe's wall time, RUNS times in
 * one process (open context, probe, close: probe_card). With "decide", the decision-only probe
 * pam_esc runs (decide_only, no expiry check: the default login_operations). With "confirm",
 * pam_esc's decision for a remembered card as shipped (its decision cache says ENROLLED; the
 * PIN tries are read: confirm_known); with "remember", the same with pam_esc's option
 * remember (no APDU). READER "" = every reader.
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

/* pam_esc's decision cache, as if its entry matched the card (pe_cache_pam.c's known()) */
static bool remembered(void *arg, const struct pcsc_reader *r, struct probe_facts *out)
{
    (void)arg;
    (void)r;
    out->state = PROBE_ENROLLED;
    out->pin_tries_left = 3;
    out->ncerts = 1;
    return true;
}

int main(int argc, char **argv)
{
    const char *mode = argc == 4 ? argv[3] : "";
    if (argc < 3 || argc > 4 ||
        (argc == 4 && strcmp(mode, "decide") && strcmp(mode, "confirm") &&
         strcmp(mode, "remember"))) {
        fprintf(stderr, "usage: bench_probe READER RUNS [decide|confirm|remember]\n");
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
    if (strcmp(mode, "confirm") == 0 || strcmp(mode, "remember") == 0) {
        opts.known = remembered;
        opts.confirm_known = strcmp(mode, "confirm") == 0;
    }
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
