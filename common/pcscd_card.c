/* pcscd_card: a card session over pcscd's own protocol (see pcscd_card.h). */
#include "pcscd_card.h"

#include "pcscd_wire.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <PCSC/pcsclite.h>

#define NO_CARD_HANDLE 0  /* pcscd never hands out 0 (SYS_RandomInt until unused and non-zero) */
#define MAX_PENDING    4  /* answers not read yet: BEGIN, END, DISCONNECT */
#define PENDING_BODY   16 /* the largest of their answers */

/* A request sent whose answer is read later, with the next one that is waited for: pcscd
 * answers in order, so BEGIN, the APDU and END cost one round trip instead of three. */
struct pending {
    uint32_t cmd;
    size_t len;   /* of its answer: a fixed body, rv last */
    int32_t card; /* the handle it was for */
};

struct pcscd_card {
    int fd;
    uint64_t deadline;
    uint32_t context;
    int32_t card; /* NO_CARD_HANDLE: none */
    uint32_t proto;
    bool in_tx;
    long last_rv;
    atomic_bool aborted;
    struct pending pend[MAX_PENDING];
    size_t npend;
    esc_err deferred; /* a failure a pending answer said, for the next step to return */
    esc_err broken;   /* the stream failed (cut, timed out, cancelled): every later step too */
};

/* A step failed: cancelled beats whatever the socket said. */
static esc_err fail(pcscd_card *s, esc_err e)
{
    return atomic_load(&s->aborted) ? ESC_ERR_CANCELLED : e;
}

/* pcscd's answer said rv: ESC_OK or its meaning (pcsc.h). */
static esc_err rv_of(pcscd_card *s, uint32_t rv)
{
    s->last_rv = (long)rv; /* as libpcsclite: the 32-bit code, positive in a LONG */
    return rv == SCARD_S_SUCCESS ? ESC_OK : pcsc_err_from_rv(s->last_rv);
}

/* A failed send or receive leaves the stream out of step (an answer may still come): the
 * session is over, whatever is asked of it later. The socket failing or pcscd closing it
 * mid-answer is what libpcsclite reports as a communication error (SCARD_F_COMM_ERROR):
 * ESC_ERR_PCSC, "the smart-card service reported an error". */
static esc_err broke(pcscd_card *s, esc_err e)
{
    if (e == ESC_ERR_IO || e == ESC_ERR_PROTOCOL)
        e = ESC_ERR_PCSC;
    e = fail(s, e);
    if (e != ESC_OK && s->broken == ESC_OK)
        s->broken = e;
    return e;
}

static esc_err send_all(pcscd_card *s, const void *buf, size_t len)
{
    if (s->broken != ESC_OK)
        return s->broken;
    if (atomic_load(&s->aborted))
        return broke(s, ESC_ERR_CANCELLED);
    return broke(s, pcscd_wire_send(s->fd, buf, len, s->deadline));
}

static esc_err recv_all(pcscd_card *s, void *buf, size_t len)
{
    if (s->broken != ESC_OK)
        return s->broken;
    if (atomic_load(&s->aborted))
        return broke(s, ESC_ERR_CANCELLED);
    return broke(s, pcscd_wire_recv(s->fd, buf, len, s->deadline));
}

/* Read the answers of the requests sent without waiting, in order. A failed BEGIN is kept
 * for the caller's step (deferred(): the transaction it asked for did not happen); the
 * step's own answer is read all the same, so the stream stays in step. */
static esc_err drain(pcscd_card *s)
{
    while (s->npend) {
        struct pending p = s->pend[0];
        unsigned char body[PENDING_BODY];
        uint32_t rv;
        esc_err e;

        memmove(s->pend, s->pend + 1, --s->npend * sizeof *s->pend);
        if (p.len > sizeof body || p.len < sizeof rv)
            return ESC_ERR_INTERNAL;
        if ((e = recv_all(s, body, p.len)) != ESC_OK)
            return e;
        memcpy(&rv, body + p.len - sizeof rv, sizeof rv);
        /* a BEGIN for a handle since disconnected concerns nobody */
        if (rv != SCARD_S_SUCCESS && p.cmd == PCSCD_CMD_BEGIN_TRANSACTION && p.card == s->card) {
            s->in_tx = false;
            if (s->deferred == ESC_OK)
                s->deferred = rv_of(s, rv);
        }
    }
    return ESC_OK;
}

/* After the awaited answer was read whole: what a pending BEGIN said, if it failed. */
static esc_err deferred(pcscd_card *s, esc_err e)
{
    esc_err d = s->deferred;

    s->deferred = ESC_OK;
    return d != ESC_OK ? d : e;
}

/* Append one request (header + body) to buf at *at. */
static void put(unsigned char *buf, size_t *at, uint32_t cmd, const void *body, size_t len)
{
    struct pcscd_header h = {(uint32_t)len, cmd};

    memcpy(buf + *at, &h, sizeof h);
    memcpy(buf + *at + sizeof h, body, len);
    *at += sizeof h + len;
}

/* Send one request (header + fixed body). */
static esc_err request(pcscd_card *s, uint32_t cmd, const void *body, size_t len)
{
    unsigned char req[sizeof(struct pcscd_header) + sizeof(struct pcscd_attrib)];
    size_t at = 0;

    if (len > sizeof(struct pcscd_attrib))
        return ESC_ERR_ARG;
    put(req, &at, cmd, body, len);
    return send_all(s, req, at);
}

/* Send one request whose answer is read with the next awaited one. */
static esc_err post(pcscd_card *s, uint32_t cmd, const void *body, size_t len)
{
    esc_err e;

    if (len > PENDING_BODY || s->npend == MAX_PENDING)
        return ESC_ERR_INTERNAL;
    if ((e = request(s, cmd, body, len)) != ESC_OK)
        return e;
    s->pend[s->npend++] = (struct pending){cmd, len, s->card};
    return ESC_OK;
}

/* One request and its answer, the same body with rv set; the answers still pending come
 * first. */
static esc_err call(pcscd_card *s, uint32_t cmd, void *body, size_t len)
{
    esc_err e;

    if ((e = request(s, cmd, body, len)) != ESC_OK || (e = drain(s)) != ESC_OK)
        return e;
    return deferred(s, recv_all(s, body, len));
}

esc_err pcscd_card_open_fd(pcscd_card **out, int fd, uint64_t deadline, struct pcsc_reader *readers,
                           size_t max, size_t *n)
{
    /* three requests in one write: the version check, a context, the readers */
    struct {
        struct pcscd_header vh;
        struct pcscd_version v;
        struct pcscd_header eh;
        struct pcscd_establish es;
        struct pcscd_header sh;
    } req = {.vh = {sizeof(struct pcscd_version), PCSCD_CMD_VERSION},
             .v = {.major = PCSCD_PROTO_MAJOR, .minor = PCSCD_PROTO_MINOR},
             .eh = {sizeof(struct pcscd_establish), PCSCD_CMD_ESTABLISH_CONTEXT},
             .es = {.scope = SCARD_SCOPE_SYSTEM},
             .sh = {0, PCSCD_CMD_GET_READERS_STATE}};
    _Static_assert(sizeof req == 48, "the three requests back to back, no padding");
    struct pcscd_version v;
    struct pcscd_establish es;
    pcscd_card *s;
    char *states = NULL;
    size_t got = 0;
    esc_err e;

    *out = NULL;
    if (n)
        *n = 0;
    s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return ESC_ERR_NOMEM;
    }
    s->fd = fd;
    s->deadline = deadline;
    atomic_init(&s->aborted, false);
    e = send_all(s, &req, sizeof req);
    if (e != ESC_OK) {
        e = ESC_ERR_NO_PCSCD;
        goto out;
    }
    e = recv_all(s, &v, sizeof v);
    if (e == ESC_OK && (v.rv != 0 || v.major != PCSCD_PROTO_MAJOR))
        e = ESC_ERR_NOT_SUPPORTED; /* what follows is in a layout we do not know */
    if (e == ESC_OK)
        e = recv_all(s, &es, sizeof es);
    if (e == ESC_OK)
        e = rv_of(s, es.rv);
    s->context = es.context;
    if (e == ESC_OK && !(states = malloc(PCSCD_STATES_SIZE)))
        e = ESC_ERR_NOMEM;
    if (e == ESC_OK)
        e = recv_all(s, states, PCSCD_STATES_SIZE);
    if (e == ESC_OK && max)
        e = pcscd_wire_parse(states, PCSCD_STATES_SIZE, readers, max, &got);
    free(states);
out:
    /* pcscd took the connection and did not answer all three in time: it is wedged */
    if (e == ESC_ERR_TIMEOUT)
        e = ESC_ERR_PCSCD_HUNG;
    if (e != ESC_OK) {
        close(s->fd);
        free(s);
        return e;
    }
    if (n)
        *n = got;
    *out = s;
    return ESC_OK;
}

esc_err pcscd_card_open(pcscd_card **out, uint64_t deadline, struct pcsc_reader *readers,
                        size_t max, size_t *n)
{
    int fd = pcscd_wire_connect();

    *out = NULL;
    if (fd < 0)
        return ESC_ERR_NO_PCSCD;
    return pcscd_card_open_fd(out, fd, deadline, readers, max, n);
}

esc_err pcscd_card_readers(pcscd_card *s, struct pcsc_reader *out, size_t max, size_t *n)
{
    struct pcscd_header h = {0, PCSCD_CMD_GET_READERS_STATE};
    char *states;
    esc_err e;

    *n = 0;
    if ((e = send_all(s, &h, sizeof h)) != ESC_OK)
        return e;
    if ((e = drain(s)) != ESC_OK)
        return e;
    if (!(states = malloc(PCSCD_STATES_SIZE)))
        return ESC_ERR_NOMEM; /* the answer is left unread: the session is unusable */
    e = recv_all(s, states, PCSCD_STATES_SIZE);
    if (e == ESC_OK)
        e = pcscd_wire_parse(states, PCSCD_STATES_SIZE, out, max, n);
    free(states);
    return deferred(s, e);
}

esc_err pcscd_card_connect(pcscd_card *s, const char *reader, bool direct)
{
    struct pcscd_connect c;
    size_t len = strlen(reader);
    esc_err e;

    if (len >= sizeof c.reader)
        return ESC_ERR_ARG;
    if (s->card != NO_CARD_HANDLE && (e = pcscd_card_disconnect(s, false)) != ESC_OK)
        return e;
    memset(&c, 0, sizeof c);
    c.context = s->context;
    memcpy(c.reader, reader, len);
    c.share = direct ? SCARD_SHARE_DIRECT : SCARD_SHARE_SHARED;
    c.protocols = direct ? 0 : SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1;
    if ((e = call(s, PCSCD_CMD_CONNECT, &c, sizeof c)) != ESC_OK)
        return e;
    if ((e = rv_of(s, c.rv)) != ESC_OK)
        return e;
    s->card = c.card;
    s->proto = c.active;
    return ESC_OK;
}

esc_err pcscd_card_disconnect(pcscd_card *s, bool reset)
{
    struct pcscd_disposition d = {.card = s->card,
                                  .disposition = reset ? SCARD_RESET_CARD : SCARD_LEAVE_CARD};
    esc_err e;

    if (s->card == NO_CARD_HANDLE)
        return ESC_OK;
    s->card = NO_CARD_HANDLE;
    s->in_tx = false; /* pcscd ends the transaction with the handle */
    if (!reset)       /* its answer comes with the next one awaited */
        return post(s, PCSCD_CMD_DISCONNECT, &d, sizeof d);
    if ((e = call(s, PCSCD_CMD_DISCONNECT, &d, sizeof d)) != ESC_OK)
        return e;
    return rv_of(s, d.rv);
}

esc_err pcscd_card_begin(pcscd_card *s)
{
    struct pcscd_handle_rv b = {.card = s->card};
    esc_err e;

    /* not waited for: the next step reads its answer first and fails with it (pcscd runs
     * the next request only once it has the transaction, or has refused it) */
    if ((e = post(s, PCSCD_CMD_BEGIN_TRANSACTION, &b, sizeof b)) == ESC_OK)
        s->in_tx = true;
    return e;
}

esc_err pcscd_card_end(pcscd_card *s)
{
    struct pcscd_disposition d = {.card = s->card, .disposition = SCARD_LEAVE_CARD};

    if (!s->in_tx)
        return ESC_OK;
    s->in_tx = false;
    return post(s, PCSCD_CMD_END_TRANSACTION, &d, sizeof d);
}

esc_err pcscd_card_status(pcscd_card *s)
{
    struct pcscd_handle_rv st = {.card = s->card};
    esc_err e;

    if ((e = call(s, PCSCD_CMD_STATUS, &st, sizeof st)) != ESC_OK)
        return e;
    return rv_of(s, st.rv);
}

/* Read one TRANSMIT answer: its body, then the response when rv is 0. Returns what broke the
 * stream; pcscd's refusal of the exchange goes to *refused. */
static esc_err read_transmit(pcscd_card *s, uint8_t *resp, size_t cap, size_t *rlen,
                             esc_err *refused)
{
    struct pcscd_transmit t;
    esc_err e;

    *rlen = 0;
    *refused = ESC_OK;
    if ((e = recv_all(s, &t, sizeof t)) != ESC_OK)
        return e;
    if (t.rv != SCARD_S_SUCCESS) {
        *refused = rv_of(s, t.rv); /* no response follows */
        return ESC_OK;
    }
    if (t.recv_len > cap)
        return ESC_ERR_PROTOCOL; /* more than we asked for: the stream cannot be trusted */
    if ((e = recv_all(s, resp, t.recv_len)) != ESC_OK)
        return e;
    *rlen = t.recv_len;
    return ESC_OK;
}

/* read_transmit for the answer to the one request due (nothing sent after it, nothing due
 * before it): what has come is received at once, body and response together when pcscd's two
 * writes are both there (pcscd_wire_await), the rest as read_transmit. Any byte past the
 * answer is one pcscd had no reason to send: a protocol error. */
#define WHOLE_MAX (PCSC_RESP_MAX + 2) /* pcsc_transmit's buffer: one byte over the largest */
static esc_err await_transmit(pcscd_card *s, uint8_t *resp, size_t cap, size_t *rlen,
                              esc_err *refused)
{
    struct pcscd_transmit t;
    unsigned char ans[sizeof t + WHOLE_MAX];
    size_t got = 0, have;
    esc_err e;

    *rlen = 0;
    *refused = ESC_OK;
    if (s->broken != ESC_OK)
        return s->broken;
    if (atomic_load(&s->aborted))
        return broke(s, ESC_ERR_CANCELLED);
    e = pcscd_wire_await(s->fd, ans, sizeof t + (cap < WHOLE_MAX ? cap : WHOLE_MAX), &got,
                         s->deadline);
    if (e == ESC_OK && got < sizeof t)
        e = pcscd_wire_recv(s->fd, ans + got, sizeof t - got, s->deadline);
    if ((e = broke(s, e)) != ESC_OK)
        return e;
    memcpy(&t, ans, sizeof t);
    have = got > sizeof t ? got - sizeof t : 0;
    /* as read_transmit: more than we asked for (or than pcscd announced, or a response after
     * a refusal) is ESC_ERR_PROTOCOL: the stream cannot be trusted */
    if (t.rv != SCARD_S_SUCCESS) {
        if (have)
            return ESC_ERR_PROTOCOL;
        *refused = rv_of(s, t.rv); /* no response follows */
        return ESC_OK;
    }
    if (t.recv_len > cap || have > t.recv_len) {
        explicit_bzero(ans + sizeof t, have);
        return ESC_ERR_PROTOCOL;
    }
    memcpy(resp, ans + sizeof t, have);
    explicit_bzero(ans + sizeof t, have); /* the card's answer: the caller's copy only */
    if (have < t.recv_len && (e = recv_all(s, resp + have, t.recv_len - have)) != ESC_OK)
        return e;
    *rlen = t.recv_len;
    return ESC_OK;
}

/* Append a TRANSMIT request for cmd to buf at *at (room checked by the caller), the answer to
 * be at most cap bytes. The protocol control information is libpcsclite's: the card's
 * protocol and sizeof(SCARD_IO_REQUEST) as its length; any protocol back. */
static void put_transmit(pcscd_card *s, unsigned char *buf, size_t *at, const uint8_t *cmd,
                         size_t len, size_t cap)
{
    struct pcscd_header h = {sizeof(struct pcscd_transmit), PCSCD_CMD_TRANSMIT};
    struct pcscd_transmit t = {.card = s->card,
                               .send_proto = s->proto,
                               .send_pci_len = sizeof(SCARD_IO_REQUEST),
                               .send_len = (uint32_t)len,
                               .recv_proto = SCARD_PROTOCOL_ANY,
                               .recv_pci_len = sizeof(SCARD_IO_REQUEST),
                               .recv_len = (uint32_t)cap};

    memcpy(buf + *at, &h, sizeof h);
    memcpy(buf + *at + sizeof h, &t, sizeof t);
    memcpy(buf + *at + sizeof h + sizeof t, cmd, len);
    *at += sizeof h + sizeof t + len;
}

esc_err pcscd_card_batch(pcscd_card *s, size_t n, const uint8_t *const cmd[], const size_t len[],
                         uint8_t resp[][PCSC_RESP_MAX], size_t rlen[])
{
    unsigned char req[2 * sizeof(struct pcscd_header) + sizeof(struct pcscd_handle_rv) +
                      2 * sizeof(struct pcscd_disposition) +
                      PCSCD_BATCH_MAX * (sizeof(struct pcscd_header) +
                                         sizeof(struct pcscd_transmit) + PCSCD_ATTR_MAX) +
                      sizeof(struct pcscd_header)];
    struct pcscd_handle_rv b = {.card = s->card};
    struct pcscd_disposition d = {.card = s->card, .disposition = SCARD_LEAVE_CARD}, da;
    esc_err e, first = ESC_OK;
    size_t at = 0;

    if (n > PCSCD_BATCH_MAX || s->card == NO_CARD_HANDLE)
        return ESC_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (len[i] > PCSCD_ATTR_MAX)
            return ESC_ERR_ARG;
    put(req, &at, PCSCD_CMD_BEGIN_TRANSACTION, &b, sizeof b);
    for (size_t i = 0; i < n; i++)
        put_transmit(s, req, &at, cmd[i], len[i], PCSC_RESP_MAX);
    put(req, &at, PCSCD_CMD_END_TRANSACTION, &d, sizeof d);
    put(req, &at, PCSCD_CMD_DISCONNECT, &d, sizeof d);
    s->card = NO_CARD_HANDLE; /* gone with this write, whatever pcscd answers */
    s->in_tx = false;
    if ((e = send_all(s, req, at)) != ESC_OK || (e = drain(s)) != ESC_OK)
        return e;
    if ((e = recv_all(s, &b, sizeof b)) != ESC_OK)
        return e;
    if (b.rv != SCARD_S_SUCCESS)
        first = rv_of(s, b.rv);
    for (size_t i = 0; i < n; i++) {
        esc_err refused;

        if ((e = read_transmit(s, resp[i], PCSC_RESP_MAX, &rlen[i], &refused)) != ESC_OK)
            return e;
        if (first == ESC_OK)
            first = refused;
    }
    for (int k = 0; k < 2; k++) { /* END, DISCONNECT */
        if ((e = recv_all(s, &da, sizeof da)) != ESC_OK)
            return e;
    }
    return deferred(s, first);
}

esc_err pcscd_card_transmit(pcscd_card *s, const uint8_t *cmd, size_t len, uint8_t *resp,
                            size_t cap, size_t *rlen)
{
    unsigned char req[sizeof(struct pcscd_header) + sizeof(struct pcscd_transmit) + PCSCD_ATTR_MAX];
    size_t at = 0;
    esc_err e, refused;

    *rlen = 0;
    if (len > PCSCD_ATTR_MAX || cap > UINT32_MAX)
        return ESC_ERR_ARG;
    put_transmit(s, req, &at, cmd, len, cap);
    if ((e = send_all(s, req, at)) != ESC_OK)
        return e;
    /* nothing due before it: the answer to this very request is awaited (polled first) */
    bool alone = s->npend == 0;
    if ((e = drain(s)) != ESC_OK)
        return e;
    e = alone ? await_transmit(s, resp, cap, rlen, &refused)
              : read_transmit(s, resp, cap, rlen, &refused);
    if (e != ESC_OK)
        return e;
    return deferred(s, refused);
}

esc_err pcscd_card_attrib(pcscd_card *s, uint32_t id, uint8_t *buf, size_t cap, size_t *len)
{
    struct pcscd_attrib a;
    esc_err e;

    *len = 0;
    memset(&a, 0, sizeof a);
    a.card = s->card;
    a.id = id;
    a.len = sizeof a.attr;
    if ((e = call(s, PCSCD_CMD_GET_ATTRIB, &a, sizeof a)) != ESC_OK)
        return e;
    if ((e = rv_of(s, a.rv)) != ESC_OK)
        return e;
    if (a.len > sizeof a.attr || a.len > cap)
        return ESC_ERR_PROTOCOL;
    memcpy(buf, a.attr, a.len);
    *len = a.len;
    return ESC_OK;
}

void pcscd_card_deadline(pcscd_card *s, uint64_t deadline)
{
    s->deadline = deadline;
}

esc_err pcscd_card_flush(pcscd_card *s)
{
    esc_err e = drain(s);
    return e != ESC_OK ? e : deferred(s, ESC_OK);
}

long pcscd_card_last_rv(const pcscd_card *s)
{
    return s ? s->last_rv : 0;
}

void pcscd_card_abort(pcscd_card *s)
{
    if (!s)
        return;
    atomic_store(&s->aborted, true);
    shutdown(s->fd, SHUT_RDWR); /* a poll() waiting on it returns now */
}

void pcscd_card_close(pcscd_card *s)
{
    if (!s)
        return;
    if (!atomic_load(&s->aborted) && s->broken == ESC_OK) {
        if (s->card != NO_CARD_HANDLE)
            (void)pcscd_card_disconnect(s, false);
        (void)drain(s);
    }
    close(s->fd); /* pcscd releases the context with the connection */
    free(s);
}
