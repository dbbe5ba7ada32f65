/* bench_rusage -o FILE COMMAND [ARGS...]: run COMMAND (stdin, stdout, stderr and every other
 * open fd inherited, so `--password-fd 3` works through it) and append one line to FILE:
 *   "<exit> <wall_us> <user_us> <sys_us> <maxrss_kb>"
 * wall is fork to wait4; user/sys/maxrss are the child's own rusage from wait4 (microsecond
 * resolution, unlike /usr/bin/time's 10 ms), including any children it reaped itself.
 * Exits with the command's exit code (128+signal if it was killed, 127 if exec failed). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static long long tv_us(struct timeval tv)
{
    return (long long)tv.tv_sec * 1000000LL + tv.tv_usec;
}

int main(int argc, char **argv)
{
    struct rusage ru;
    long long t0, wall;
    int status = 0, code, fd;
    pid_t pid, r;
    FILE *out;

    if (argc < 4 || strcmp(argv[1], "-o") != 0) {
        fprintf(stderr, "usage: bench_rusage -o FILE COMMAND [ARGS...]\n");
        return 2;
    }
    /* opened before the fork, close-on-exec, so the command never sees it */
    fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "bench_rusage: cannot open %s: %s\n", argv[2], strerror(errno));
        return 2;
    }
    t0 = now_us();
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench_rusage: fork: %s\n", strerror(errno));
        return 2;
    }
    if (pid == 0) {
        execvp(argv[3], argv + 3);
        fprintf(stderr, "bench_rusage: cannot run %s: %s\n", argv[3], strerror(errno));
        _exit(127);
    }
    do
        r = wait4(pid, &status, 0, &ru);
    while (r < 0 && errno == EINTR);
    wall = now_us() - t0;
    if (r < 0) {
        fprintf(stderr, "bench_rusage: wait4: %s\n", strerror(errno));
        return 2;
    }
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    out = fdopen(fd, "a");
    if (!out)
        return 2;
    fprintf(out, "%d %lld %lld %lld %ld\n", code, wall, tv_us(ru.ru_utime), tv_us(ru.ru_stime),
            ru.ru_maxrss);
    fclose(out);
    return code;
}
