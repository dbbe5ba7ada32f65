/* tpsd_log: the reference TPS's log (one line per event, to stderr or a file). Never given
 * a PIN, password or session key. */
#ifndef TPSD_LOG_H
#define TPSD_LOG_H

#include <stdarg.h>

/* Log to `path` (append), or stderr when NULL. 0 on success. */
int tpsd_log_open(const char *path);
/* One line "tps[<conn>] <text>"; conn 0 = the server itself. */
void tpsd_log(unsigned long conn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print tpsd_log lines also with hex dumps of APDUs (--verbose). */
void tpsd_log_set_verbose(int on);
int tpsd_log_verbose(void);

#endif
