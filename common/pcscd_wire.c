/* pcscd_wire: pcscd's client protocol, the messages we speak ourselves (see pcscd_wire.h). */
#include "pcscd_wire.h"

#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <PCSC/pcsclite.h>

#ifndef PCSCLITE_CSOCK_NAME_DEFAULT
#define PCSCLITE_CSOCK_NAME_DEFAULT "/run/pcscd/pcscd.comm"
#endif

_Static_assert(PCSCD_NAME_MAX == PCSC_READER_NAME_MAX, "reader names fit as pcscd sends them");
_Static_assert(PCSCD_ATR_MAX == PCSC_ATR_MAX, "ATRs fit as pcscd sends them");

const char *pcscd_socket_path(void)
{
    const char *p = getenv("PCSCLITE_CSOCK_NAME");
    return p && *p ? p : PCSCLITE_CSOCK_NAME_DEFAULT;
}

bool pcscd_slot(const struct pcscd_reader_state *s, char *name, size_t cap, bool *card)
{
    size_t len = strnlen(s->name, sizeof s->name);

    if (len == 0 || len == sizeof s->name || len >= cap)
        return false;
    memcpy(name, s->name, len);
    name[len] = '\0';
    *card = (s->state & SCARD_PRESENT) &&
            !(s->state & (SCARD_ABSENT | SCARD_SWALLOWED | SCARD_UNKNOWN));
    return true;
}

esc_err pcscd_wire_parse(const void *buf, size_t len, struct pcsc_reader *out, size_t max,
                         size_t *n)
{
    struct pcscd_reader_state s;

    *n = 0;
    if (len != PCSCD_STATES_SIZE)
        return ESC_ERR_PROTOCOL;
    for (size_t i = 0; i < PCSCD_READER_SLOTS && *n < max; i++) {
        struct pcsc_reader *r = &out[*n];
        bool card;

        memcpy(&s, (const char *)buf + i * sizeof s, sizeof s); /* buf need not be aligned */
        memset(r, 0, sizeof *r);
        if (!pcscd_slot(&s, r->name, sizeof r->name, &card))
            continue;
        r->card_present = (s.state & SCARD_PRESENT) != 0;
        r->card_mute = r->card_present && !card;
        if (r->card_present && s.atr_len <= PCSCD_ATR_MAX) {
            memcpy(r->atr, s.atr, s.atr_len);
            r->atr_len = s.atr_len;
        }
        r->event_count = s.event_counter & 0xFFFFu;
        r->exclusive = s.sharing == -1; /* PCSCLITE_SHARING_EXCLUSIVE_CONTEXT */
        r->in_use = s.sharing > 0;
        (*n)++;
    }
    return ESC_OK;
}

/* Wait for fd to be ready for `events` until the deadline. */
static esc_err wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = esc_mono_ms();
        struct pollfd p = {.fd = fd, .events = events};
        int k;

        if (now >= deadline)
            return ESC_ERR_TIMEOUT;
        k = poll(&p, 1, (int)(deadline - now));
        if (k > 0)
            return ESC_OK;
        if (k < 0 && errno != EINTR)
            return ESC_ERR_IO;
    }
}

esc_err pcscd_wire_recv(int fd, void *buf, size_t len, uint64_t deadline)
{
    size_t have = 0;

    while (have < len) {
        ssize_t k = recv(fd, (char *)buf + have, len - have, MSG_DONTWAIT);
        esc_err e;

        if (k > 0) {
            have += (size_t)k;
            continue;
        }
        if (k == 0)
            return ESC_ERR_PROTOCOL; /* pcscd closed the connection before the whole answer */
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return ESC_ERR_PROTOCOL;
        if ((e = wait_fd(fd, POLLIN, deadline)) != ESC_OK)
            return e;
    }
    return ESC_OK;
}

esc_err pcscd_wire_await(int fd, void *buf, size_t cap, size_t *got, uint64_t deadline)
{
    *got = 0;
    for (;;) {
        esc_err e = wait_fd(fd, POLLIN, deadline);
        if (e != ESC_OK)
            return e;
        ssize_t k = recv(fd, buf, cap, MSG_DONTWAIT);
        if (k > 0) {
            *got = (size_t)k;
            return ESC_OK;
        }
        if (k == 0)
            return ESC_ERR_PROTOCOL; /* pcscd closed the connection before its answer */
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return ESC_ERR_PROTOCOL;
    }
}

esc_err pcscd_wire_send(int fd, const void *buf, size_t len, uint64_t deadline)
{
    size_t done = 0;

    while (done < len) {
        ssize_t k = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        esc_err e;

        if (k > 0) {
            done += (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            return ESC_ERR_IO;
        if ((e = wait_fd(fd, POLLOUT, deadline)) != ESC_OK)
            return e;
    }
    return ESC_OK;
}

int pcscd_wire_connect(void)
{
    const char *path = pcscd_socket_path();
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof sa.sun_path)
        return -1;
    memcpy(sa.sun_path, path, strlen(path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    /* a local stream socket connects at once or fails (ECONNREFUSED, ENOENT, EAGAIN when
     * pcscd's backlog is full: then libpcsclite's way is the better one) */
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

esc_err pcscd_wire_readers(struct pcsc_reader *out, size_t max, size_t *n, unsigned timeout_ms)
{
    uint64_t deadline = esc_mono_ms() + timeout_ms;
    struct {
        struct pcscd_header vh;
        struct pcscd_version v;
        struct pcscd_header sh;
    } req = {.vh = {.size = sizeof(struct pcscd_version), .command = PCSCD_CMD_VERSION},
             .v = {.major = PCSCD_PROTO_MAJOR, .minor = PCSCD_PROTO_MINOR},
             .sh = {.size = 0, .command = PCSCD_CMD_GET_READERS_STATE}};
    _Static_assert(sizeof req == 28, "the two requests back to back, no padding");
    struct pcscd_version v;
    char *states;
    esc_err e;
    int fd;

    *n = 0;
    fd = pcscd_wire_connect();
    if (fd < 0)
        return ESC_ERR_NO_PCSCD;
    states = malloc(PCSCD_STATES_SIZE);
    if (!states) {
        close(fd);
        return ESC_ERR_NOMEM;
    }
    /* both requests in one write: 28 bytes into an empty socket buffer go whole */
    if (send(fd, &req, sizeof req, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof req)
        e = ESC_ERR_NO_PCSCD;
    else if ((e = pcscd_wire_recv(fd, &v, sizeof v, deadline)) == ESC_OK &&
             (v.rv != 0 || v.major != PCSCD_PROTO_MAJOR))
        e = ESC_ERR_NOT_SUPPORTED; /* the states that may follow are not in a layout we know */
    if (e == ESC_OK && (e = pcscd_wire_recv(fd, states, PCSCD_STATES_SIZE, deadline)) == ESC_OK)
        e = pcscd_wire_parse(states, PCSCD_STATES_SIZE, out, max, n);
    free(states);
    close(fd);
    return e;
}
