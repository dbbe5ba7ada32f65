/* tpsd_log: the reference TPS's log. */
#include "tpsd_log.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static FILE *log_fp;
static int log_verbose;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

int tpsd_log_open(const char *path)
{
    if (!path) {
        log_fp = stderr;
        return 0;
    }
    log_fp = fopen(path, "ae");
    if (!log_fp) {
        log_fp = stderr;
        return -1;
    }
    setvbuf(log_fp, NULL, _IOLBF, 0);
    return 0;
}

void tpsd_log_set_verbose(int on)
{
    log_verbose = on;
}

int tpsd_log_verbose(void)
{
    return log_verbose;
}

void tpsd_log(unsigned long conn, const char *fmt, ...)
{
    struct timeval tv;
    struct tm tm;
    char stamp[32];
    va_list ap;
    FILE *fp = log_fp ? log_fp : stderr;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
    pthread_mutex_lock(&log_lock);
    fprintf(fp, "%s.%03ld tps[%lu] ", stamp, (long)(tv.tv_usec / 1000), conn);
    va_start(ap, fmt);
    vfprintf(fp, fmt, ap);
    va_end(ap);
    fputc('\n', fp);
    fflush(fp);
    pthread_mutex_unlock(&log_lock);
}
