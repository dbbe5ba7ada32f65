/* ipc: codec and socket I/O of the pam_esc <-> agent protocol (see ipc.h). */
#include "ipc.h"

#include "clock.h"

#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* What each type may carry, must carry, and its payload cap. */
struct type_rule {
    const char *name;
    uint32_t allowed, required;
    size_t cap;
};

#define B(t) IPC_BIT(IPC_F_##t)
static const struct type_rule rules[IPC_TYPE__END] = {
    [IPC_REQUEST] = {"REQUEST", B(ID) | B(USER) | B(READER) | B(TIMEOUT) | B(FLAGS),
                     B(ID) | B(TIMEOUT), 1024},
    [IPC_PROMPT_ECHO_OFF] = {"PROMPT_ECHO_OFF", B(TEXT) | B(ID), B(TEXT), 600},
    [IPC_PROMPT_ECHO_ON] = {"PROMPT_ECHO_ON", B(TEXT) | B(ID), B(TEXT), 600},
    [IPC_INFO] = {"INFO", B(TEXT), B(TEXT), 600},
    [IPC_ERROR] = {"ERROR", B(TEXT), B(TEXT), 600},
    [IPC_PROGRESS] = {"PROGRESS", B(PCT) | B(TEXT), B(PCT), 600},
    [IPC_ANSWER] = {"ANSWER", B(OK) | B(SECRET), B(OK), 300},
    [IPC_DONE] = {"DONE", B(OK) | B(CODE) | B(TEXT) | B(SECRET) | B(USER), B(OK) | B(CODE), 1200},
    [IPC_CARD] = {"CARD",
                  B(READER) | B(CODE) | B(STATE) | B(ATR) | B(CUID) | B(APPLET) | B(LIFE) |
                      B(TRIES) | B(URL) | B(NCERTS) | B(NOT_AFTER) | B(SUBJECT) | B(ISSUER) |
                      B(ELAPSED),
                  B(READER) | B(CODE) | B(STATE), IPC_PAYLOAD_MAX},
};
#undef B

/* Field sizes: strings give their cap; numbers their exact width. */
static const struct {
    bool is_str, display;
    size_t size;
} fields[IPC_F__END] = {
    [IPC_F_TEXT] = {true, true, IPC_TEXT_MAX},
    [IPC_F_ID] = {true, true, IPC_ID_MAX},
    [IPC_F_PCT] = {false, false, 1},
    [IPC_F_CODE] = {false, false, 2},
    [IPC_F_OK] = {false, false, 1},
    [IPC_F_SECRET] = {true, false, IPC_SECRET_MAX},
    [IPC_F_USER] = {true, true, IPC_NAME_MAX},
    [IPC_F_READER] = {true, true, IPC_NAME_MAX},
    [IPC_F_TIMEOUT] = {false, false, 4},
    [IPC_F_FLAGS] = {false, false, 4},
    [IPC_F_STATE] = {false, false, 1},
    [IPC_F_ATR] = {true, true, IPC_ATR_HEX_MAX},
    [IPC_F_CUID] = {true, true, IPC_CUID_HEX_MAX},
    [IPC_F_APPLET] = {true, true, IPC_APPLET_MAX},
    [IPC_F_LIFE] = {false, false, 1},
    [IPC_F_TRIES] = {false, false, 1},
    [IPC_F_URL] = {true, true, IPC_URL_MAX},
    [IPC_F_NCERTS] = {false, false, 2},
    [IPC_F_NOT_AFTER] = {false, false, 8},
    [IPC_F_SUBJECT] = {true, true, IPC_DN_MAX},
    [IPC_F_ISSUER] = {true, true, IPC_DN_MAX},
    [IPC_F_ELAPSED] = {false, false, 4},
};

static bool type_ok(unsigned t)
{
    return t >= IPC_REQUEST && t < IPC_TYPE__END;
}

static bool tag_ok(unsigned t)
{
    return t >= IPC_F_TEXT && t < IPC_F__END;
}

const char *ipc_type_name(enum ipc_type t)
{
    return type_ok((unsigned)t) ? rules[t].name : "UNKNOWN";
}

void ipc_msg_init(struct ipc_msg *m, enum ipc_type type)
{
    memset(m, 0, sizeof *m);
    m->type = type;
}

void ipc_msg_wipe(struct ipc_msg *m)
{
    if (m)
        secret_wipe(m, sizeof *m);
}

static char *str_field(struct ipc_msg *m, enum ipc_tag tag)
{
    switch (tag) {
    case IPC_F_TEXT:
        return m->text;
    case IPC_F_ID:
        return m->id;
    case IPC_F_USER:
        return m->user;
    case IPC_F_READER:
        return m->reader;
    case IPC_F_SECRET:
        return m->secret;
    case IPC_F_ATR:
        return m->atr;
    case IPC_F_CUID:
        return m->cuid;
    case IPC_F_APPLET:
        return m->applet;
    case IPC_F_URL:
        return m->url;
    case IPC_F_SUBJECT:
        return m->subject;
    case IPC_F_ISSUER:
        return m->issuer;
    default:
        return NULL;
    }
}

static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

esc_err ipc_set_str(struct ipc_msg *m, enum ipc_tag tag, const char *s)
{
    char *dst;
    size_t n, cap;

    if (!m || !s || !tag_ok((unsigned)tag) || !(dst = str_field(m, tag)))
        return ESC_ERR_ARG;
    cap = fields[tag].size;
    n = strnlen(s, cap + 1);
    if (n > cap)
        n = cap;
    memcpy(dst, s, n);
    dst[n] = '\0';
    if (fields[tag].display)
        for (size_t i = 0; i < n; i++)
            if (is_ctl((unsigned char)dst[i]))
                dst[i] = ' ';
    m->present |= IPC_BIT(tag);
    return strnlen(s, cap + 1) > cap ? ESC_ERR_TOO_BIG : ESC_OK;
}

/* Every number field: the range its width allows (and its own where it has one). */
static esc_err set_num(struct ipc_msg *m, enum ipc_tag tag, uint64_t v)
{
    if (!m)
        return ESC_ERR_ARG;
    switch (tag) {
    case IPC_F_PCT:
        if (v > 100)
            return ESC_ERR_ARG;
        m->pct = (uint8_t)v;
        break;
    case IPC_F_CODE:
        if (v >= ESC_ERR__COUNT)
            return ESC_ERR_ARG;
        m->code = (uint16_t)v;
        break;
    case IPC_F_OK:
        if (v > 1)
            return ESC_ERR_ARG;
        m->ok = v != 0;
        break;
    case IPC_F_TIMEOUT:
    case IPC_F_FLAGS:
    case IPC_F_ELAPSED:
        if (v > UINT32_MAX)
            return ESC_ERR_ARG;
        *(tag == IPC_F_TIMEOUT ? &m->timeout_ms
          : tag == IPC_F_FLAGS ? &m->flags
                               : &m->elapsed_ms) = (uint32_t)v;
        break;
    case IPC_F_STATE:
    case IPC_F_LIFE:
    case IPC_F_TRIES:
        if (v > UINT8_MAX)
            return ESC_ERR_ARG;
        *(tag == IPC_F_STATE ? &m->state : tag == IPC_F_LIFE ? &m->life : &m->tries) = (uint8_t)v;
        break;
    case IPC_F_NCERTS:
        if (v > UINT16_MAX)
            return ESC_ERR_ARG;
        m->ncerts = (uint16_t)v;
        break;
    case IPC_F_NOT_AFTER:
        m->not_after = (int64_t)v; /* two's complement on the wire */
        break;
    default:
        return ESC_ERR_ARG;
    }
    m->present |= IPC_BIT(tag);
    return ESC_OK;
}

esc_err ipc_set_num(struct ipc_msg *m, enum ipc_tag tag, uint32_t v)
{
    return tag == IPC_F_NOT_AFTER ? ESC_ERR_ARG : set_num(m, tag, v);
}

esc_err ipc_set_time(struct ipc_msg *m, enum ipc_tag tag, int64_t v)
{
    return tag == IPC_F_NOT_AFTER ? set_num(m, tag, (uint64_t)v) : ESC_ERR_ARG;
}

static uint64_t num_value(const struct ipc_msg *m, enum ipc_tag tag)
{
    switch (tag) {
    case IPC_F_PCT:
        return m->pct;
    case IPC_F_CODE:
        return m->code;
    case IPC_F_OK:
        return m->ok;
    case IPC_F_TIMEOUT:
        return m->timeout_ms;
    case IPC_F_FLAGS:
        return m->flags;
    case IPC_F_STATE:
        return m->state;
    case IPC_F_LIFE:
        return m->life;
    case IPC_F_TRIES:
        return m->tries;
    case IPC_F_NCERTS:
        return m->ncerts;
    case IPC_F_NOT_AFTER:
        return (uint64_t)m->not_after;
    case IPC_F_ELAPSED:
        return m->elapsed_ms;
    default:
        return 0;
    }
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

esc_err ipc_encode(const struct ipc_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
    size_t off = IPC_HEADER_LEN;
    const struct type_rule *r;

    if (!m || !buf || !len || !type_ok((unsigned)m->type))
        return ESC_ERR_ARG;
    r = &rules[m->type];
    if ((m->present & ~r->allowed) || (m->present & r->required) != r->required)
        return ESC_ERR_ARG;
    for (unsigned tag = IPC_F_TEXT; tag < IPC_F__END; tag++) {
        size_t n;
        if (!(m->present & IPC_BIT(tag)))
            continue;
        if (fields[tag].is_str)
            n = strnlen(str_field((struct ipc_msg *)m, (enum ipc_tag)tag), fields[tag].size + 1);
        else
            n = fields[tag].size;
        if (n > fields[tag].size || off + 3 + n > cap || off + 3 + n - IPC_HEADER_LEN > r->cap)
            return ESC_ERR_ARG;
        buf[off] = (uint8_t)tag;
        put_be(buf + off + 1, (uint32_t)n, 2);
        if (fields[tag].is_str)
            memcpy(buf + off + 3, str_field((struct ipc_msg *)m, (enum ipc_tag)tag), n);
        else
            put_be(buf + off + 3, num_value(m, (enum ipc_tag)tag), n);
        off += 3 + n;
    }
    buf[0] = (uint8_t)m->type;
    buf[1] = IPC_VERSION;
    put_be(buf + 2, (uint32_t)(off - IPC_HEADER_LEN), 2);
    *len = off;
    return ESC_OK;
}

esc_err ipc_frame_len(const uint8_t hdr[IPC_HEADER_LEN], size_t *frame_len)
{
    size_t plen;

    if (!hdr || !frame_len || !type_ok(hdr[0]) || hdr[1] != IPC_VERSION)
        return ESC_ERR_PROTOCOL;
    plen = get_be(hdr + 2, 2);
    if (plen > rules[hdr[0]].cap)
        return ESC_ERR_PROTOCOL;
    *frame_len = IPC_HEADER_LEN + plen;
    return ESC_OK;
}

static esc_err decode_field(struct ipc_msg *m, unsigned tag, const uint8_t *v, size_t n)
{
    if (fields[tag].is_str) {
        char *dst = str_field(m, (enum ipc_tag)tag);
        if (n > fields[tag].size)
            return ESC_ERR_PROTOCOL;
        for (size_t i = 0; i < n; i++)
            if (v[i] == 0 || (fields[tag].display && is_ctl(v[i])))
                return ESC_ERR_PROTOCOL;
        memcpy(dst, v, n);
        dst[n] = '\0';
        m->present |= IPC_BIT(tag);
        return ESC_OK;
    }
    if (n != fields[tag].size)
        return ESC_ERR_PROTOCOL;
    return set_num(m, (enum ipc_tag)tag, get_be(v, n)) == ESC_OK ? ESC_OK : ESC_ERR_PROTOCOL;
}

esc_err ipc_decode(const uint8_t *buf, size_t len, struct ipc_msg *m)
{
    size_t flen, off = IPC_HEADER_LEN;
    const struct type_rule *r;
    esc_err e = ESC_ERR_PROTOCOL;

    if (!buf || !m)
        return ESC_ERR_ARG;
    ipc_msg_init(m, IPC_REQUEST);
    if (len < IPC_HEADER_LEN || ipc_frame_len(buf, &flen) != ESC_OK || flen != len)
        goto out;
    m->type = (enum ipc_type)buf[0];
    r = &rules[m->type];
    while (off < len) {
        unsigned tag;
        size_t n;
        if (len - off < 3)
            goto out;
        tag = buf[off];
        n = get_be(buf + off + 1, 2);
        off += 3;
        if (!tag_ok(tag) || !(r->allowed & IPC_BIT(tag)) || (m->present & IPC_BIT(tag)) ||
            n > len - off)
            goto out;
        if (decode_field(m, tag, buf + off, n) != ESC_OK)
            goto out;
        off += n;
    }
    if ((m->present & r->required) != r->required)
        goto out;
    e = ESC_OK;
out:
    if (e != ESC_OK)
        ipc_msg_wipe(m);
    return e;
}

long ipc_now_ms(void)
{
    return (long)esc_mono_ms();
}

int ipc_ms_left(long deadline_ms)
{
    long left = deadline_ms - ipc_now_ms();
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* Wait for `events` on fd before the deadline: ESC_OK, ESC_ERR_TIMEOUT or ESC_ERR_IO. */
static esc_err wait_fd(int fd, short events, long deadline_ms)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int left = ipc_ms_left(deadline_ms), rc = poll(&p, 1, left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return ESC_ERR_IO;
        if (rc == 0)
            return ESC_ERR_TIMEOUT;
        if (p.revents & (events | POLLHUP | POLLERR))
            return ESC_OK; /* the read or write then tells EOF / error apart */
        return ESC_ERR_IO;
    }
}

esc_err ipc_send(int fd, const struct ipc_msg *m, long deadline_ms)
{
    uint8_t buf[IPC_HEADER_LEN + IPC_PAYLOAD_MAX];
    size_t len = 0, off = 0;
    esc_err e = ipc_encode(m, buf, sizeof buf, &len);

    while (e == ESC_OK && off < len) {
        ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            e = wait_fd(fd, POLLOUT, deadline_ms);
        } else {
            e = ESC_ERR_IO;
        }
    }
    secret_wipe(buf, len);
    return e;
}

/* Read exactly n bytes before the deadline. */
static esc_err read_exact(int fd, uint8_t *p, size_t n, long deadline_ms)
{
    while (n) {
        ssize_t r = recv(fd, p, n, MSG_DONTWAIT);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
        } else if (r == 0) {
            return ESC_ERR_IO;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            esc_err e = wait_fd(fd, POLLIN, deadline_ms);
            if (e != ESC_OK)
                return e;
        } else {
            return ESC_ERR_IO;
        }
    }
    return ESC_OK;
}

esc_err ipc_recv(int fd, struct ipc_msg *m, long deadline_ms)
{
    uint8_t buf[IPC_HEADER_LEN + IPC_PAYLOAD_MAX];
    size_t flen = 0;
    esc_err e;

    if (!m)
        return ESC_ERR_ARG;
    e = read_exact(fd, buf, IPC_HEADER_LEN, deadline_ms);
    if (e == ESC_OK)
        e = ipc_frame_len(buf, &flen);
    if (e == ESC_OK)
        e = read_exact(fd, buf + IPC_HEADER_LEN, flen - IPC_HEADER_LEN, deadline_ms);
    if (e == ESC_OK)
        e = ipc_decode(buf, flen, m);
    secret_wipe(buf, sizeof buf);
    return e;
}

esc_err ipc_session_path(const char *runtime_dir, char *out, size_t cap)
{
    int n;

    if (!runtime_dir || runtime_dir[0] != '/' || !out)
        return ESC_ERR_ARG;
    n = snprintf(out, cap, "%s/%s/%s", runtime_dir, IPC_SESSION_DIR, IPC_SESSION_SOCK);
    if (n < 0 || (size_t)n >= cap || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return ESC_ERR_TOO_BIG;
    return ESC_OK;
}

esc_err ipc_peer_uid(int fd, uid_t *uid)
{
    struct ucred cr;
    socklen_t len = sizeof cr;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || len != sizeof cr)
        return ESC_ERR_IO;
    *uid = cr.uid;
    return ESC_OK;
}

/* The directory holding the socket must be ours alone: not a link, owned by uid, 0700. */
static esc_err check_dir(const char *path, uid_t uid)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct stat st;
    char *slash;

    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (!slash)
        return ESC_ERR_ARG;
    *slash = '\0';
    if (lstat(dir, &st) != 0)
        return ESC_ERR_AGENT_UNAVAILABLE;
    if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 0777) != 0700)
        return ESC_ERR_PROTOCOL;
    return ESC_OK;
}

esc_err ipc_session_connect(const char *runtime_dir, uid_t uid, long deadline_ms, int *fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    esc_err e;
    uid_t peer = (uid_t)-1;
    int s = -1;

    if (!fd)
        return ESC_ERR_ARG;
    *fd = -1;
    e = ipc_session_path(runtime_dir, sa.sun_path, sizeof sa.sun_path);
    if (e != ESC_OK)
        return e;
    e = check_dir(sa.sun_path, uid);
    if (e != ESC_OK)
        return e;
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return ESC_ERR_IO;
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int err;
        socklen_t el = sizeof err;
        e = ESC_ERR_AGENT_UNAVAILABLE;
        if (errno != EINPROGRESS && errno != EAGAIN)
            goto out;
        if (wait_fd(s, POLLOUT, deadline_ms) != ESC_OK ||
            getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0)
            goto out;
    }
    e = ipc_peer_uid(s, &peer);
    if (e == ESC_OK && peer != uid)
        e = ESC_ERR_PROTOCOL;
out:
    if (e != ESC_OK) {
        close(s);
        return e;
    }
    *fd = s;
    return ESC_OK;
}

esc_err ipc_session_listen(const char *runtime_dir, int *fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char dir[sizeof sa.sun_path];
    esc_err e;
    int s;

    if (!fd)
        return ESC_ERR_ARG;
    e = ipc_session_path(runtime_dir, sa.sun_path, sizeof sa.sun_path);
    if (e != ESC_OK)
        return e;
    snprintf(dir, sizeof dir, "%s/%s", runtime_dir, IPC_SESSION_DIR);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return ESC_ERR_IO;
    /* an existing directory gets 0700 again; never through a symbolic link */
    s = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s < 0 || fchmod(s, 0700) != 0) {
        if (s >= 0)
            close(s);
        return ESC_ERR_IO;
    }
    close(s);
    e = check_dir(sa.sun_path, geteuid());
    if (e != ESC_OK)
        return e;
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return ESC_ERR_IO;
    (void)unlink(sa.sun_path);
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(s, 8) != 0) {
        close(s);
        return ESC_ERR_IO;
    }
    *fd = s;
    return ESC_OK;
}

int ipc_activated_listener(char *err, size_t errcap)
{
    const char *pid = getenv("LISTEN_PID"), *nfds = getenv("LISTEN_FDS");
    int type = 0, listening = 0, fd = 3;
    struct sockaddr_un sa;
    socklen_t len = sizeof type, alen = sizeof sa;
    char *end, n[16];
    long v;

    if (!pid || !nfds)
        return -1;
    errno = 0;
    v = strtol(pid, &end, 10);
    if (errno || *end || v != (long)getpid())
        return -1;
    snprintf(n, sizeof n, "%s", nfds);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (strcmp(n, "1") != 0) {
        esc_seterr(err, errcap, "socket activation: expected one socket, got LISTEN_FDS=%s", n);
        return -2;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening ||
        getsockname(fd, (struct sockaddr *)&sa, &alen) != 0 || sa.sun_family != AF_UNIX) {
        esc_seterr(err, errcap, "socket activation: fd 3 is not a listening local stream socket");
        return -2;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}
