/* tpsd_faults: fault knobs for tests, read from a small text file before every connection
 * (so a test changes them without restarting the TPS). One knob per line, '#' comments:
 *   drop N          close the connection cleanly (FIN) right after sending server message N
 *   reset N         abort the connection (RST) right after sending server message N
 *   stall N S       wait S seconds before sending server message N
 *   malformed N     send a malformed message in place of server message N, then hang up
 *   end_op C [R]    answer BEGIN_OP at once with END_OP result=R message=C; R defaults to
 *                   1 (C=0: 0); C=-1 leaves the message field out
 *   flood status|pdu  answer BEGIN_OP with an endless run of STATUS_UPDATE requests (or
 *                   TOKEN_PDU requests: SELECT of the card manager), each answered in turn,
 *                   until the client stops answering (a deliberate fault: Dogtag sends a
 *                   bounded sequence)
 *   oversized N     in place of server message N, a frame announcing s=10000 (one byte over
 *                   the protocol's 9999) with 10000 bytes behind it, then hang up
 *   latency MS      wait MS milliseconds before every server message
 *   http_status S   answer POST /tps/tps with HTTP status S (e.g. 503) and no conversation
 *   phone_home_status S  answer GET /tps/phoneHome with HTTP status S
 *   phone_home_body PATH answer GET /tps/phoneHome with 200 and the bytes of PATH as the XML
 *   phone_home_redirect URL  answer GET /tps/phoneHome with 302 Found, Location: URL
 *   phone_home_stall S   wait S seconds before answering GET /tps/phoneHome
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
    int end_op;        /* -1 = off, else the END_OP message (-2: the field left out) */
    int end_op_result; /* the END_OP result with end_op */
    int flood;         /* 0 = off, TPSD_FLOOD_STATUS, TPSD_FLOOD_PDU */
    unsigned oversized_at;
    unsigned latency_ms;
    int http_status; /* 0 = off */
    int phone_home_status;
    unsigned phone_home_stall_secs;
    char phone_home_body[256];     /* "" = off */
    char phone_home_redirect[256]; /* "" = off */
};

enum { TPSD_FLOOD_STATUS = 1, TPSD_FLOOD_PDU = 2 };
#define TPSD_END_OP_NO_MESSAGE (-2)

void tpsd_faults_clear(struct tpsd_faults *f);
/* Parses the text of a faults file; unknown or malformed lines are ignored (returned count). */
int tpsd_faults_parse(struct tpsd_faults *f, const char *text);
/* Reads `path` (NULL or missing: no faults). */
void tpsd_faults_load(struct tpsd_faults *f, const char *path);
/* True if any knob is set. */
int tpsd_faults_any(const struct tpsd_faults *f);

#endif
