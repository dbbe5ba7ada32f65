/* bench_insert READER: the peer of "card inserted to notification shown" (make bench): a
 * program that waits for a card in READER (SCardGetStatusChange, the reader empty at the
 * start) and then probes it (probe_card in-process, the full probe the session agent runs).
 * Prints "seen_us probed_us state": CLOCK_REALTIME in µs when pcscd reported the card and when
 * the probe ended (the bench takes the insertion time with the same clock). Prints "ready" on
 * stderr once it waits.
 * bench_insert --seen READER...: only waits until every READER holds a card and prints
 * "first_us last_us": when pcscd reported the first and the last of them (the start of the
 * session agent's work on a batch of cards, without pcscd's own delay in noticing them). */
#include "probe.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <winscard.h>

static unsigned long long real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
}

/* --seen: the moments pcscd reported the first and the last card in readers[0..n). */
static int seen(char **readers, int n)
{
    SCARDCONTEXT ctx;
    SCARD_READERSTATE st[16];
    unsigned long long first = 0, last = 0;
    int have = 0;

    if (n < 1 || n > 16 || SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != 0)
        return 2;
    memset(st, 0, sizeof st);
    for (int i = 0; i < n; i++) {
        st[i].szReader = readers[i];
        st[i].dwCurrentState = SCARD_STATE_UNAWARE;
    }
    if (SCardGetStatusChange(ctx, 0, st, (DWORD)n) != SCARD_S_SUCCESS)
        return 1;
    fprintf(stderr, "ready\n");
    fflush(stderr);
    while (have < n) {
        for (int i = 0; i < n; i++)
            st[i].dwCurrentState = st[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
        if (SCardGetStatusChange(ctx, 30000, st, (DWORD)n) != SCARD_S_SUCCESS)
            return 1;
        unsigned long long now = real_us();
        int present = 0;
        for (int i = 0; i < n; i++)
            present += (st[i].dwEventState & SCARD_STATE_PRESENT) != 0;
        if (present > have) {
            if (!have)
                first = now;
            last = now;
            have = present;
        }
    }
    SCardReleaseContext(ctx);
    printf("%llu %llu\n", first, last);
    return 0;
}

int main(int argc, char **argv)
{
    SCARDCONTEXT ctx;
    SCARD_READERSTATE st = {0};
    if (argc >= 2 && strcmp(argv[1], "--seen") == 0)
        return seen(argv + 2, argc - 2);
    if (argc != 2 || !argv[1][0]) {
        fprintf(stderr, "usage: bench_insert READER\n");
        return 2;
    }
    if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
        return 1;
    st.szReader = argv[1];
    st.dwCurrentState = SCARD_STATE_UNAWARE;
    if (SCardGetStatusChange(ctx, 0, &st, 1) != SCARD_S_SUCCESS)
        return 1;
    fprintf(stderr, "ready\n");
    fflush(stderr);
    while (!(st.dwEventState & SCARD_STATE_PRESENT)) {
        st.dwCurrentState = st.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
        if (SCardGetStatusChange(ctx, 30000, &st, 1) != SCARD_S_SUCCESS)
            return 1;
    }
    unsigned long long seen = real_us();
    SCardReleaseContext(ctx);
    struct probe_opts opts = {.timeout_ms = 5000, .reader = argv[1]};
    struct probe_facts f;
    probe_card(&opts, &f);
    unsigned long long probed = real_us();
    printf("%llu %llu %s\n", seen, probed, probe_state_name(f.state));
    return 0;
}
