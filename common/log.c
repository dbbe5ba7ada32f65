/* log: leveled logging to stderr or syslog. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

static struct {
    char ident[32];
    int level;
    bool syslog;
} lg = {"esc", ESC_LOG_WARN, false};

static const char *const names[] = {"error", "warn", "info", "debug"};

void esc_log_init(const char *ident, int level, bool use_syslog)
{
    snprintf(lg.ident, sizeof lg.ident, "%s", ident ? ident : "esc");
    esc_log_set_level(level);
    lg.syslog = use_syslog;
}

void esc_log_set_level(int level)
{
    if (level < ESC_LOG_ERR)
        level = ESC_LOG_ERR;
    if (level > ESC_LOG_DEBUG)
        level = ESC_LOG_DEBUG;
    lg.level = level;
}

int esc_log_get_level(void)
{
    return lg.level;
}

int esc_log_level_parse(const char *s, int *level)
{
    if (!s || !level)
        return -1;
    for (int i = 0; i <= ESC_LOG_DEBUG; i++) {
        if (strcasecmp(s, names[i]) == 0 || (s[0] == '0' + i && s[1] == '\0')) {
            *level = i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0 || strcasecmp(s, "err") == 0) {
        *level = s[0] == 'w' || s[0] == 'W' ? ESC_LOG_WARN : ESC_LOG_ERR;
        return 0;
    }
    return -1;
}

void esc_log(int level, const char *fmt, ...)
{
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    char msg[1024];
    va_list ap;

    if (level > lg.level || level < ESC_LOG_ERR)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (lg.syslog)
        syslog(LOG_AUTHPRIV | prio[level], "%s: %s", lg.ident, msg);
    else
        fprintf(stderr, "%s: %s: %s\n", lg.ident, names[level], msg);
}
