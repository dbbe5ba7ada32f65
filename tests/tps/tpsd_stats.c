/* tpsd_stats: counters and the atomically rewritten stats file. */
#include "tpsd_stats.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const names[ST_COUNT] = {
    "connections",
    "tls_connections",
    "tps_connections",
    "operations",
    "op_enroll",
    "op_format",
    "op_reset_pin",
    "op_renew",
    "op_other",
    "end_ok",
    "end_error",
    "phone_home",
    "phone_home_connections",
    "max_ops_per_connection",
    "stats_requests",
    "tls_resumed",
};
static unsigned long counters[ST_COUNT];
static char stats_path[4096];
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t render_locked(char *out, size_t cap)
{
    size_t len = 0;
    for (int i = 0; i < ST_COUNT && cap > 0; i++) {
        int n = snprintf(out + len, cap - len, "%s=%lu\n", names[i], counters[i]);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
    return len;
}

/* Temp file + rename, so a reader never sees a half-written file (no fsync: the counters
 * need not survive a crash, and an fsync per connection would slow the rig down). */
static void write_file_locked(void)
{
    char buf[1024], tmp[4200];
    size_t len;
    int fd;
    if (!stats_path[0])
        return;
    len = render_locked(buf, sizeof(buf));
    snprintf(tmp, sizeof(tmp), "%s.tmp", stats_path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write(fd, buf, len) != (ssize_t)len) {
        close(fd);
        unlink(tmp);
        return;
    }
    close(fd);
    rename(tmp, stats_path);
}

void tpsd_stats_init(const char *path)
{
    pthread_mutex_lock(&stats_lock);
    memset(counters, 0, sizeof(counters));
    snprintf(stats_path, sizeof(stats_path), "%s", path ? path : "");
    write_file_locked();
    pthread_mutex_unlock(&stats_lock);
}

void tpsd_stats_add(enum tpsd_counter c, unsigned long n)
{
    if (c >= ST_COUNT)
        return;
    pthread_mutex_lock(&stats_lock);
    counters[c] += n;
    write_file_locked();
    pthread_mutex_unlock(&stats_lock);
}

void tpsd_stats_max(enum tpsd_counter c, unsigned long v)
{
    if (c >= ST_COUNT)
        return;
    pthread_mutex_lock(&stats_lock);
    if (v > counters[c]) {
        counters[c] = v;
        write_file_locked();
    }
    pthread_mutex_unlock(&stats_lock);
}

unsigned long tpsd_stats_get(enum tpsd_counter c)
{
    unsigned long v;
    if (c >= ST_COUNT)
        return 0;
    pthread_mutex_lock(&stats_lock);
    v = counters[c];
    pthread_mutex_unlock(&stats_lock);
    return v;
}

size_t tpsd_stats_render(char *out, size_t cap)
{
    size_t n;
    pthread_mutex_lock(&stats_lock);
    n = render_locked(out, cap);
    pthread_mutex_unlock(&stats_lock);
    return n;
}
