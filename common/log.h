/* log: leveled logging to stderr or syslog. Never pass secrets (PINs, passwords,
 * session keys, nonces) to these functions. */
#ifndef ESC_LOG_H
#define ESC_LOG_H

#include <stdbool.h>

enum esc_log_level { ESC_LOG_ERR = 0, ESC_LOG_WARN, ESC_LOG_INFO, ESC_LOG_DEBUG };

/* ident: program name in each line; level: most verbose level printed; use_syslog: send
 * to syslog (LOG_AUTHPRIV facility) instead of stderr. Safe to call again. Default before
 * any call: "esc", ESC_LOG_WARN, stderr. */
void esc_log_init(const char *ident, int level, bool use_syslog);
void esc_log_set_level(int level);
int esc_log_get_level(void);
/* "error" "warn" "info" "debug" (or 0..3) -> level; returns 0 on success, -1 if unknown. */
int esc_log_level_parse(const char *s, int *level);
void esc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   esc_log(ESC_LOG_ERR, __VA_ARGS__)
#define log_warn(...)  esc_log(ESC_LOG_WARN, __VA_ARGS__)
#define log_info(...)  esc_log(ESC_LOG_INFO, __VA_ARGS__)
#define log_debug(...) esc_log(ESC_LOG_DEBUG, __VA_ARGS__)

#endif
