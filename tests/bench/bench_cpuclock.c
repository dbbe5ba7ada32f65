/* bench_cpuclock PID...: the CPU time each process has used so far, in nanoseconds, one line
 * "PID NS" each (NS "-" when the process is gone).
 *
 * The process's CPU-time clock (clock_getcpuclockid): the scheduler's exact run time of every
 * thread, the ones that have already ended included. That is the sum of field 1 of
 * /proc/PID/task/TID/schedstat over the live threads plus what ended threads ran, which schedstat
 * no longer shows: the reference TPS runs each connection in a thread that ends with it, and
 * /proc/PID/stat's utime+stime (which does include them) is in 10 ms ticks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_cpuclock PID...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        char *end;
        long pid;
        clockid_t clk;
        struct timespec ts;

        errno = 0;
        pid = strtol(argv[i], &end, 10);
        if (errno || end == argv[i] || *end || pid <= 0) {
            fprintf(stderr, "bench_cpuclock: not a process id: '%s'\n", argv[i]);
            return 2;
        }
        if (clock_getcpuclockid((pid_t)pid, &clk) != 0 || clock_gettime(clk, &ts) != 0)
            printf("%ld -\n", pid);
        else
            printf("%ld %lld\n", pid, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    }
    return 0;
}
