/* tpsd_faults: fault knobs for tests, read from a small text file before every connection
 * (so a test changes them without restarting the TPS). One knob per line, '#' comments:
 *   drop N          close the connection cleanly (FIN) right after sending server message N
 *   reset N         abort the connection (RST) right after sending server message N
 *   stall N S       wait S seconds before sending server message N
 *   malformed N     send a malformed message in place of server message N, then hang up
 *   end_op C        answer BEGIN_OP at once with END_OP result=1 message=C (C=0: result=0)
 *   latency MS      wait MS milliseconds before every server message
 *   http_status S   answer POST /tps/tps with HTTP status S (e.g. 503) and no conversation
 *   phone_home_status S  answer GET /tps/phoneHome with HTTP status S
 * Server messages are numbered from 1 in each conversation (the first is the answer to
 * BEGIN_OP). A missing file means no faults. */
#ifndef TPSD_FAULTS_H
#define TPSD_FAULTS_H

struct tpsd_faults {
    unsigned drop_after;  /* 0 = off */
    unsigned reset_after; /* 0 = off */
    unsigned stall_at;
    unsigned stall_secs;
    unsigned malformed_at;
    int end_op; /* -1 = off */
    unsigned latency_ms;
    int http_status; /* 0 = off */
    int phone_home_status;
};

void tpsd_faults_clear(struct tpsd_faults *f);
/* Parses the text of a faults file; unknown or malformed lines are ignored (returned count). */
int tpsd_faults_parse(struct tpsd_faults *f, const char *text);
/* Reads `path` (NULL or missing: no faults). */
void tpsd_faults_load(struct tpsd_faults *f, const char *path);
/* True if any knob is set. */
int tpsd_faults_any(const struct tpsd_faults *f);

#endif
