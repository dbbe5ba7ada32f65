/* tpsd_faults: the fault file. */
#include "tpsd_faults.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tpsd_faults_clear(struct tpsd_faults *f)
{
    memset(f, 0, sizeof(*f));
    f->end_op = -1;
}

static int num(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    *out = strtoul(s, &end, 10);
    if (errno || *end || *out > max)
        return -1;
    return 0;
}

/* end_op C [R]: C in -1..99 (-1: no message field), R 0 or 1 (default: C != 0) */
static int end_op(struct tpsd_faults *f, const char *a, const char *b)
{
    unsigned long x = 0, r = 0;
    if (a && strcmp(a, "-1") == 0)
        f->end_op = TPSD_END_OP_NO_MESSAGE;
    else if (num(a, 99, &x) == 0)
        f->end_op = (int)x;
    else
        return -1;
    if (b && num(b, 1, &r) < 0) {
        f->end_op = -1;
        return -1;
    }
    f->end_op_result = b ? (int)r : f->end_op != 0;
    return 0;
}

int tpsd_faults_parse(struct tpsd_faults *f, const char *text)
{
    char line[256];
    int bad = 0;
    tpsd_faults_clear(f);
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        char *save = NULL, *key, *a, *b, *c;
        unsigned long x = 0, y = 0;
        if (n >= sizeof(line)) {
            bad++;
            goto next;
        }
        memcpy(line, text, n);
        line[n] = '\0';
        if (strchr(line, '#'))
            *strchr(line, '#') = '\0';
        key = strtok_r(line, " \t\r", &save);
        if (!key)
            goto next;
        a = strtok_r(NULL, " \t\r", &save);
        b = strtok_r(NULL, " \t\r", &save);
        c = strtok_r(NULL, " \t\r", &save);
        if (c) {
            bad++;
            goto next;
        }
        if (strcmp(key, "drop") == 0 && num(a, 100000, &x) == 0 && !b)
            f->drop_after = (unsigned)x;
        else if (strcmp(key, "reset") == 0 && num(a, 100000, &x) == 0 && !b)
            f->reset_after = (unsigned)x;
        else if (strcmp(key, "stall") == 0 && num(a, 100000, &x) == 0 && num(b, 3600, &y) == 0)
            f->stall_at = (unsigned)x, f->stall_secs = (unsigned)y;
        else if (strcmp(key, "malformed") == 0 && num(a, 100000, &x) == 0 && !b)
            f->malformed_at = (unsigned)x;
        else if (strcmp(key, "end_op") == 0 && end_op(f, a, b) == 0)
            ;
        else if (strcmp(key, "flood") == 0 && a && !b && strcmp(a, "status") == 0)
            f->flood = TPSD_FLOOD_STATUS;
        else if (strcmp(key, "flood") == 0 && a && !b && strcmp(a, "pdu") == 0)
            f->flood = TPSD_FLOOD_PDU;
        else if (strcmp(key, "oversized") == 0 && num(a, 100000, &x) == 0 && x > 0 && !b)
            f->oversized_at = (unsigned)x;
        else if (strcmp(key, "phone_home_stall") == 0 && num(a, 3600, &x) == 0 && !b)
            f->phone_home_stall_secs = (unsigned)x;
        else if (strcmp(key, "phone_home_body") == 0 && a && !b &&
                 strlen(a) < sizeof(f->phone_home_body))
            memcpy(f->phone_home_body, a, strlen(a) + 1);
        else if (strcmp(key, "phone_home_redirect") == 0 && a && !b &&
                 strlen(a) < sizeof(f->phone_home_redirect) && !strpbrk(a, "\r\n"))
            memcpy(f->phone_home_redirect, a, strlen(a) + 1);
        else if (strcmp(key, "latency") == 0 && num(a, 60000, &x) == 0 && !b)
            f->latency_ms = (unsigned)x;
        else if (strcmp(key, "http_status") == 0 && num(a, 599, &x) == 0 && x >= 100 && !b)
            f->http_status = (int)x;
        else if (strcmp(key, "phone_home_status") == 0 && num(a, 599, &x) == 0 && x >= 100 && !b)
            f->phone_home_status = (int)x;
        else
            bad++;
    next:
        text = nl ? nl + 1 : NULL;
    }
    return bad;
}

void tpsd_faults_load(struct tpsd_faults *f, const char *path)
{
    char buf[4096];
    size_t n;
    FILE *fp;
    tpsd_faults_clear(f);
    if (!path || !(fp = fopen(path, "re")))
        return;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    tpsd_faults_parse(f, buf);
}

int tpsd_faults_any(const struct tpsd_faults *f)
{
    return f->drop_after || f->reset_after || f->stall_at || f->malformed_at || f->end_op != -1 ||
           f->latency_ms || f->http_status || f->phone_home_status || f->flood || f->oversized_at ||
           f->phone_home_stall_secs || f->phone_home_body[0] || f->phone_home_redirect[0];
}
