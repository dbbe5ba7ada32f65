/* tpsd_stats: counters a test reads to prove "one TCP connection per operation" and
 * "no phone home when cached". Kept in memory, served by GET /tps/stats and rewritten
 * atomically to the stats file (key=value lines) after every change:
 *   connections        TCP connections accepted (both ports, every path)
 *   tls_connections    of which on the HTTPS port
 *   tps_connections    connections that carried a POST /tps/tps conversation
 *   operations         BEGIN_OP messages received
 *   op_enroll op_format op_reset_pin op_renew op_other
 *   end_ok end_error   END_OP sent with result 0 / 1
 *   phone_home         GET /tps/phoneHome requests answered
 *   phone_home_connections  connections that carried at least one phone-home request
 *   max_ops_per_connection  most POST /tps/tps conversations on one connection (stays 1)
 *   stats_requests     GET /tps/stats requests (these are also in `connections`)
 *   tls_resumed        TLS handshakes that resumed an earlier session (of tls_connections) */
#ifndef TPSD_STATS_H
#define TPSD_STATS_H

#include <stddef.h>

enum tpsd_counter {
    ST_CONNECTIONS,
    ST_TLS_CONNECTIONS,
    ST_TPS_CONNECTIONS,
    ST_OPERATIONS,
    ST_OP_ENROLL,
    ST_OP_FORMAT,
    ST_OP_RESET_PIN,
    ST_OP_RENEW,
    ST_OP_OTHER,
    ST_END_OK,
    ST_END_ERROR,
    ST_PHONE_HOME,
    ST_PHONE_HOME_CONNECTIONS,
    ST_MAX_OPS_PER_CONNECTION,
    ST_STATS_REQUESTS,
    ST_TLS_RESUMED,
    ST_COUNT
};

/* `path` may be NULL (no file). */
void tpsd_stats_init(const char *path);
void tpsd_stats_add(enum tpsd_counter c, unsigned long n);
/* Sets counter c to max(current, v). */
void tpsd_stats_max(enum tpsd_counter c, unsigned long v);
unsigned long tpsd_stats_get(enum tpsd_counter c);
/* Renders "key=value\n" lines; returns the length (truncated to cap-1). */
size_t tpsd_stats_render(char *out, size_t cap);

#endif
