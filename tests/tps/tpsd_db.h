/* tpsd_db: the token database, one text file, one line per token (README.md):
 *   <CUID> status=<state> owner=<uid or -> type=<tokenType> certs=<serial,serial or ->
 *          updated=<unix time> [policy=<KEY=YES|NO;...>]
 * Values are %-escaped outside [A-Za-z0-9._@,;=-]. The file is re-read for every lookup (a test
 * may edit it, e.g. to disable a token) and rewritten atomically (temp + fsync + rename). */
#ifndef TPSD_DB_H
#define TPSD_DB_H

#include <stddef.h>

/* Dogtag's TokenStatus (certsrv tps/token/TokenStatus.java): uninitialized = UNFORMATTED,
 * lost = PERM_LOST, suspended = SUSPENDED (on hold), temp_lost_perm_lost = TEMP_LOST_PERM_LOST.
 * `disabled` is this TPS's own: a state from which no operation may move the token. */
enum tpsd_tstatus {
    TS_UNINITIALIZED,
    TS_FORMATTED,
    TS_ACTIVE,
    TS_DISABLED,
    TS_DAMAGED,
    TS_LOST,
    TS_SUSPENDED,
    TS_TEMP_LOST_PERM_LOST,
    TS_TERMINATED,
    TS_COUNT
};

struct tpsd_token {
    char cuid[21];
    enum tpsd_tstatus status;
    char owner[128]; /* "" = none */
    char type[64];
    char certs[512]; /* comma-separated hex serials, "" = none */
    long long updated;
    char policy[256]; /* TPSTokenPolicy string, "" = the default policy alone */
};

const char *tpsd_tstatus_name(enum tpsd_tstatus s);
/* Dogtag's tps.operations.allowedTransitions (CS.cfg: 0:0,0:4,4:4,4:0,7:0): may an enroll
 * (to TS_ACTIVE) or a format (to TS_FORMATTED) move a token in state `from`? */
int tpsd_tstatus_op_allowed(enum tpsd_tstatus from, enum tpsd_tstatus to);

/* 0 found, 1 not found, -1 unreadable (a missing file is "not found"). */
int tpsd_db_get(const char *path, const char *cuid, struct tpsd_token *t);
/* Inserts or replaces the record of t->cuid. 0 or -1. */
int tpsd_db_put(const char *path, const struct tpsd_token *t);

/* One line <-> one record; exposed for tests and the fuzzer. parse: 0 or -1. */
int tpsd_db_parse_line(const char *line, struct tpsd_token *t);
size_t tpsd_db_format_line(const struct tpsd_token *t, char *out, size_t cap);

#endif
