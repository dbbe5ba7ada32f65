/* conf: esc.conf parser. One `key = value` per line; a line whose first non-blank
 * character is `#` is a comment (a `#` inside a value, e.g. a URL fragment, is kept). */
#include "conf.h"

#include "log.h"
#include "safe_file.h"

#include "esc_err.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef ESC_SYSCONFDIR
#define ESC_SYSCONFDIR "/etc"
#endif

void conf_defaults(struct esc_conf *c)
{
    memset(c, 0, sizeof *c);
    c->probe_timeout_ms = 300;
    c->login_operations = CONF_OP_ENROLL | CONF_OP_PINRESET;
    c->tps_message_timeout = 90;
    c->operation_timeout = 600;
    c->card_timeout = 60;
    snprintf(c->agent_user, sizeof c->agent_user, "%s", "esc-agent");
    c->log_level = ESC_LOG_WARN;
    c->renew_days = 14;
    c->pin_warn_tries = 2;
    snprintf(c->login_services, sizeof c->login_services, "%s", CONF_LOGIN_SERVICES_DEFAULT);
}

const char *conf_default_path(void)
{
    const char *e = getenv("ESC_CONF");
    return (e && *e) ? e : ESC_SYSCONFDIR "/pam_esc/esc.conf";
}

static bool parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long n;

    if (!isdigit((unsigned char)v[0]))
        return false;
    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno || *end || n < lo || n > hi)
        return false;
    *out = (unsigned)n;
    return true;
}

static bool copy_str(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n >= cap)
        return false;
    memcpy(dst, v, n + 1);
    return true;
}

/* ---- host lists: one syntax for esc.conf and for the trust check (agent/engine/trust.c) ---- */

#define HOST_SEP  " \t,"
#define HOST_MAX  253 /* the longest DNS name */
#define ENTRY_MAX (HOST_MAX + 8)

struct host_entry {
    const char *name; /* the host, or for "*.example.com" the suffix "example.com" */
    size_t len;
    bool wildcard;
    unsigned port; /* 0: any port */
};

/* Labels of letters, digits, - and _, none empty. *last_numeric tells whether the last label
 * is all digits (as in an IPv4 address, which no wildcard may end with). */
static bool valid_dns_name(const char *s, size_t n, bool *last_numeric)
{
    size_t label = 0;
    bool digits = true;

    if (n == 0 || n > HOST_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (label == 0)
                return false;
            label = 0;
            digits = true;
            continue;
        }
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return false;
        if (!isdigit((unsigned char)s[i]))
            digits = false;
        label++;
    }
    *last_numeric = digits;
    return label > 0;
}

/* "[v6]" : hex digits, ':' and '.' between the brackets. */
static bool valid_v6(const char *s, size_t n)
{
    if (n < 4 || s[0] != '[' || s[n - 1] != ']')
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
            return false;
    return true;
}

/* Split one list entry (e, n bytes, no separator in it); false when it breaks the syntax. */
static bool host_entry_parse(const char *e, size_t n, struct host_entry *h)
{
    const char *port = NULL;
    bool numeric;

    memset(h, 0, sizeof *h);
    if (n == 0 || n > ENTRY_MAX)
        return false;
    if (e[0] == '[') { /* "[::1]" or "[::1]:8443" */
        const char *close = memchr(e, ']', n);
        if (!close)
            return false;
        h->len = (size_t)(close - e) + 1;
        if (h->len < n && e[h->len] != ':')
            return false;
    } else {
        const char *colon = memchr(e, ':', n);
        h->len = colon ? (size_t)(colon - e) : n;
    }
    h->name = e;
    if (h->len < n) {
        char num[8], *end;
        unsigned long v;
        size_t pl = n - h->len - 1;
        port = e + h->len + 1;
        if (pl == 0 || pl >= sizeof num || !isdigit((unsigned char)port[0]))
            return false;
        memcpy(num, port, pl);
        num[pl] = '\0';
        errno = 0;
        v = strtoul(num, &end, 10);
        if (errno || *end || v == 0 || v > 65535)
            return false;
        h->port = (unsigned)v;
    }
    if (e[0] == '[')
        return valid_v6(h->name, h->len);
    if (h->len > 2 && e[0] == '*' && e[1] == '.') {
        /* "*.example.com": one or more labels in front of example.com; never a suffix of an
         * address ("*.0.1") */
        h->wildcard = true;
        h->name += 2;
        h->len -= 2;
        return valid_dns_name(h->name, h->len, &numeric) && !numeric;
    }
    return valid_dns_name(h->name, h->len, &numeric);
}

static bool host_entry_matches(const struct host_entry *h, const char *host, size_t hlen,
                               unsigned port)
{
    if (h->port && h->port != port)
        return false;
    if (h->wildcard)
        return hlen > h->len + 1 && host[hlen - h->len - 1] == '.' &&
               strncasecmp(host + hlen - h->len, h->name, h->len) == 0;
    return hlen == h->len && strncasecmp(host, h->name, hlen) == 0;
}

bool conf_host_list_valid(const char *list)
{
    struct host_entry h;

    if (!list)
        return false;
    for (const char *p = list + strspn(list, HOST_SEP); *p; p += strspn(p, HOST_SEP)) {
        size_t n = strcspn(p, HOST_SEP);
        if (!host_entry_parse(p, n, &h))
            return false;
        p += n;
    }
    return true;
}

bool conf_host_in_list(const char *host, unsigned port, const char *list)
{
    struct host_entry h;
    size_t hlen;

    if (!host || !*host || !list)
        return false;
    hlen = strlen(host);
    for (const char *p = list + strspn(list, HOST_SEP); *p; p += strspn(p, HOST_SEP)) {
        size_t n = strcspn(p, HOST_SEP);
        /* an entry that breaks the syntax matches nothing (conf_parse refuses it anyway) */
        if (host_entry_parse(p, n, &h) && host_entry_matches(&h, host, hlen, port))
            return true;
        p += n;
    }
    return false;
}

bool conf_service_list_valid(const char *list)
{
    if (!list)
        return false;
    for (const char *p = list; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._- \t,", *p))
            return false;
    return true;
}

static bool valid_user(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 32 || !(islower((unsigned char)v[0]) || v[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!islower((unsigned char)v[i]) && !isdigit((unsigned char)v[i]) && v[i] != '_' &&
            v[i] != '-')
            return false;
    return true;
}

static bool valid_url(const char *v)
{
    return *v == '\0' || strncasecmp(v, "http://", 7) == 0 || strncasecmp(v, "https://", 8) == 0;
}

/* Apply one key/value. Returns NULL or what is wrong with it. */
static const char *apply(struct esc_conf *c, const char *k, const char *v, unsigned *seen)
{
    enum { PT, LO, PH, AH, AHH, CA, CD, TT, AU, LL, RD, RN, PW, LS, OT, CT, NKEYS };
    static const char *const keys[NKEYS] = {"probe_timeout_ms",
                                            "login_operations",
                                            "phone_home_url",
                                            "allowed_hosts",
                                            "allow_http_hosts",
                                            "ca_file",
                                            "cache_dir",
                                            "tps_message_timeout",
                                            "agent_user",
                                            "log_level",
                                            "reader",
                                            "renew_days",
                                            "pin_warn_tries",
                                            "login_services",
                                            "operation_timeout",
                                            "card_timeout"};
    int i;

    for (i = 0; i < NKEYS; i++)
        if (strcmp(k, keys[i]) == 0)
            break;
    if (i == NKEYS)
        return "unknown key";
    if (*seen & (1u << i))
        return "key given twice";
    *seen |= 1u << i;
    switch (i) {
    case PT:
        return parse_uint(v, 1, 60000, &c->probe_timeout_ms)
                   ? NULL
                   : "must be a number of milliseconds, 1..60000";
    case LO:
        return esc_ops_parse(v, &c->login_operations) == 0
                   ? NULL
                   : "must be words from: enroll pinreset renew format (or none)";
    case PH:
        if (!valid_url(v))
            return "must be an http:// or https:// URL";
        return copy_str(c->phone_home_url, sizeof c->phone_home_url, v) ? NULL : "value too long";
    case AH:
    case AHH:
        if (!conf_host_list_valid(v))
            return "must be host names, *.domain names or [IPv6] addresses, each with an "
                   "optional :port, separated by spaces or commas";
        return copy_str(i == AH ? c->allowed_hosts : c->allow_http_hosts, CONF_VALUE_MAX, v)
                   ? NULL
                   : "value too long";
    case CA:
    case CD:
        if (*v && *v != '/')
            return "must be an absolute path";
        return copy_str(i == CA ? c->ca_file : c->cache_dir, CONF_VALUE_MAX, v) ? NULL
                                                                                : "value too long";
    case TT:
        return parse_uint(v, 1, 3600, &c->tps_message_timeout)
                   ? NULL
                   : "must be a number of seconds, 1..3600";
    case OT:
        return parse_uint(v, 1, 86400, &c->operation_timeout)
                   ? NULL
                   : "must be a number of seconds, 1..86400";
    case CT:
        return parse_uint(v, 1, 3600, &c->card_timeout) ? NULL
                                                        : "must be a number of seconds, 1..3600";
    case AU:
        if (!valid_user(v))
            return "must be a user name (lower case letters, digits, _ and -)";
        return copy_str(c->agent_user, sizeof c->agent_user, v) ? NULL : "value too long";
    case LL:
        return esc_log_level_parse(v, &c->log_level) == 0
                   ? NULL
                   : "must be one of error, warn, info, debug";
    case RN:
        return parse_uint(v, 0, 3650, &c->renew_days) ? NULL : "must be a number of days, 0..3650";
    case PW:
        return parse_uint(v, 0, 127, &c->pin_warn_tries) ? NULL
                                                         : "must be a number of tries, 0..127";
    case LS:
        if (!conf_service_list_valid(v))
            return "must be PAM service names (letters, digits, . _ -) separated by spaces";
        return copy_str(c->login_services, sizeof c->login_services, v) ? NULL : "value too long";
    default:
        return copy_str(c->reader, sizeof c->reader, v) ? NULL : "value too long";
    }
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* Parse one line (already copied, NUL-terminated). */
static const char *parse_line(struct esc_conf *c, char *line, unsigned *seen)
{
    char *s = trim(line), *eq, *k, *v;

    if (*s == '\0' || *s == '#')
        return NULL;
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return "control character in line";
    eq = strchr(s, '=');
    if (!eq)
        return "expected `key = value`";
    *eq = '\0';
    k = trim(s);
    v = trim(eq + 1);
    if (*k == '\0')
        return "missing key before `=`";
    return apply(c, k, v, seen);
}

esc_err conf_parse(const char *text, size_t len, const char *name, struct esc_conf *c, char *err,
                   size_t errlen)
{
    char line[CONF_LINE_MAX + 1];
    size_t pos = 0, lineno = 0;
    unsigned seen = 0;

    if (!c || (!text && len))
        return ESC_ERR_ARG;
    if (!name)
        name = "esc.conf";
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        const char *why;

        lineno++;
        if (n > CONF_LINE_MAX) {
            esc_seterr(err, errlen, "%s:%zu: line longer than %d characters", name, lineno,
                       CONF_LINE_MAX);
            return ESC_ERR_CONF;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        if (memchr(text + pos, '\0', n)) {
            esc_seterr(err, errlen, "%s:%zu: NUL byte in line", name, lineno);
            return ESC_ERR_CONF;
        }
        pos += n + (nl ? 1 : 0);
        char key[64] = "";
        sscanf(line, " %63[^= \t]", key);
        why = parse_line(c, line, &seen);
        if (why) {
            esc_seterr(err, errlen, "%s:%zu: %s%s%s", name, lineno, key[0] ? key : "",
                       key[0] ? ": " : "", why);
            return ESC_ERR_CONF;
        }
    }
    return ESC_OK;
}

esc_err conf_load(const char *path, struct esc_conf *c, char *err, size_t errlen)
{
    bool explicit_path = path != NULL || (getenv("ESC_CONF") && *getenv("ESC_CONF"));
    char *buf = NULL;
    esc_err rv = ESC_ERR_IO;
    ssize_t r;
    size_t len = 0;
    int fd = -1;

    if (!c)
        return ESC_ERR_ARG;
    conf_defaults(c);
    if (!path)
        path = conf_default_path();
    /* root (pam_esc, escctl under sudo) reads only a file that root alone can change: whoever
     * can write esc.conf chooses where the directory password goes (safe_file.h) */
    rv = safe_file_open(path, geteuid() == 0, &fd, err, errlen);
    if (rv != ESC_OK) {
        if (rv == ESC_ERR_CONF_MISSING && !explicit_path)
            return ESC_OK;
        return rv;
    }
    rv = ESC_ERR_IO;
    buf = malloc(CONF_FILE_MAX + 1);
    if (!buf) {
        rv = ESC_ERR_NOMEM;
        goto out;
    }
    while (len <= CONF_FILE_MAX && (r = read(fd, buf + len, CONF_FILE_MAX + 1 - len)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            esc_seterr(err, errlen, "%s: %s", path, strerror(errno));
            goto out;
        }
        len += (size_t)r;
        if (len > CONF_FILE_MAX)
            break;
    }
    if (len > CONF_FILE_MAX) {
        esc_seterr(err, errlen, "%s: file larger than %d bytes", path, CONF_FILE_MAX);
        rv = ESC_ERR_CONF;
        goto out;
    }
    rv = conf_parse(buf, len, path, c, err, errlen);
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rv;
}

void conf_apply_log_level(const struct esc_conf *c)
{
    int cli = esc_log_get_level();

    if (c && (cli <= ESC_LOG_WARN || c->log_level > cli))
        esc_log_set_level(c->log_level);
}

int conf_list_has(const char *list, const char *word)
{
    size_t wl;
    const char *p = list;

    if (!list || !word || !*word)
        return 0;
    wl = strlen(word);
    while (*p) {
        size_t n;
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        n = strcspn(p, " \t,");
        if (n == wl && strncasecmp(p, word, n) == 0)
            return 1;
        p += n;
    }
    return 0;
}
