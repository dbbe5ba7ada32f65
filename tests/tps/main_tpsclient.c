/* tps-client: a small ESC-like client for testing the reference TPS by hand and from
 * tests/integration/tps_server.sh: one chunked POST, BEGIN_OP, then lock-step answers
 * (TOKEN_PDU relayed to a PC/SC card, LOGIN / EXTENDED_LOGIN, NEW_PIN, STATUS_UPDATE) until
 * END_OP, over http:// or https:// (verified with --cacert FILE). Prints one line per server
 * message and "END_OP ..." at the end; exits 0 when END_OP says result=0, 1 on result=1, 2 on
 * usage, 3 on transport errors.
 *
 *   tps-client --url http://127.0.0.1:PORT/tps/tps --op enroll|format|reset-pin|renew|N
 *              [--user U --password P] [--pin PIN] [--type T] [--ext-login] [--status]
 *              [--reader NAME] [--fake-card] [--split N] [--timeout S] [--quiet]
 *              [--cacert FILE]
 * Credentials may also come from the environment (TPSCLIENT_PASSWORD, TPSCLIENT_PIN) so they
 * do not show in `ps`. --fake-card answers every APDU with 6D00 (no card needed). --split N
 * sends every message in chunks of N bytes (the server must frame by s=<len>, not chunks). */
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "pcsc.h"
#include "tpsd_client.h"

struct client {
    int fd;
    SSL_CTX *sctx;
    SSL *ssl;
    pcsc_ctx *pctx;
    pcsc_card *card;
};

/* The card: PC/SC, or --fake-card (6D00 to everything). */
static int pcsc_card_fn(void *ctx, const uint8_t *apdu, size_t len, uint8_t *resp, size_t *rlen)
{
    struct client *c = ctx;
    return pcsc_transmit(c->card, apdu, len, resp, PCSC_RESP_MAX, rlen) == ESC_OK ? 0 : -1;
}

static int fake_card_fn(void *ctx, const uint8_t *apdu, size_t len, uint8_t *resp, size_t *rlen)
{
    (void)ctx, (void)apdu, (void)len;
    resp[0] = 0x6D, resp[1] = 0x00;
    *rlen = 2;
    return 0;
}

static int connect_url(const char *url, char *host, size_t hcap, char *port, size_t pcap,
                       char *path, size_t pathcap)
{
    const char *p = strncmp(url, "https://", 8) == 0 ? url + 8 : url + 7, *slash, *colon;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int fd, one = 1;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return -1;
    slash = strchr(p, '/');
    if (!slash)
        slash = p + strlen(p);
    colon = memchr(p, ':', (size_t)(slash - p));
    if (!colon || (size_t)(colon - p) >= hcap || (size_t)(slash - colon - 1) >= pcap)
        return -1;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    memcpy(port, colon + 1, (size_t)(slash - colon - 1));
    port[slash - colon - 1] = '\0';
    snprintf(path, pathcap, "%s", *slash ? slash : "/");
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Reads the response head; returns the HTTP status, any body bytes go to the decoder. */
static int open_card(struct client *c, const char *reader)
{
    struct pcsc_reader r[PCSC_MAX_READERS];
    size_t n = 0;
    if (pcsc_open(&c->pctx, 0) != ESC_OK ||
        pcsc_list_readers(c->pctx, r, PCSC_MAX_READERS, &n) != ESC_OK)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((!reader || strcmp(reader, r[i].name) == 0) && r[i].card_present)
            return pcsc_connect(c->pctx, r[i].name, &c->card) == ESC_OK ? 0 : -1;
    return -1;
}

/* TLS with certificate and host-name (IP) verification against `cafile`. */
static int start_tls(struct client *c, const char *host, const char *cafile)
{
    X509_VERIFY_PARAM *vp;
    c->sctx = SSL_CTX_new(TLS_client_method());
    if (!c->sctx || SSL_CTX_load_verify_locations(c->sctx, cafile, NULL) != 1)
        return -1;
    SSL_CTX_set_verify(c->sctx, SSL_VERIFY_PEER, NULL);
    c->ssl = SSL_new(c->sctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
        return -1;
    vp = SSL_get0_param(c->ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1 &&
        X509_VERIFY_PARAM_set1_host(vp, host, 0) != 1)
        return -1;
    if (SSL_connect(c->ssl) != 1) {
        unsigned long e = ERR_get_error();
        fprintf(stderr, "tps-client: TLS handshake failed: %s\n",
                e ? ERR_reason_error_string(e) : "closed");
        return -1;
    }
    return 0;
}

static int op_code(const char *s)
{
    if (!strcmp(s, "enroll"))
        return 1;
    if (!strcmp(s, "reset-pin"))
        return 3;
    if (!strcmp(s, "renew"))
        return 4;
    if (!strcmp(s, "format"))
        return 5;
    return (s[0] >= '0' && s[0] <= '9' && !s[1]) ? s[0] - '0' : -1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", 1, 0, 'u'},       {"op", 1, 0, 'o'},     {"user", 1, 0, 'U'},
        {"password", 1, 0, 'P'},  {"pin", 1, 0, 'n'},    {"type", 1, 0, 't'},
        {"ext-login", 0, 0, 'x'}, {"status", 0, 0, 's'}, {"reader", 1, 0, 'r'},
        {"fake-card", 0, 0, 'f'}, {"split", 1, 0, 'S'},  {"timeout", 1, 0, 'T'},
        {"quiet", 0, 0, 'q'},     {"cacert", 1, 0, 'C'}, {0, 0, 0, 0}};
    struct client c = {.fd = -1};
    struct tpsd_client_opts o = {.op = -1, .timeout_ms = 60000, .trace = stdout};
    struct tpsd_client_result r;
    const char *url = NULL, *reader = NULL, *cafile = NULL;
    char host[256], port[16], path[256], hostport[300];
    int fake = 0, opt, rc = 3;
    o.password = getenv("TPSCLIENT_PASSWORD");
    o.new_pin = getenv("TPSCLIENT_PIN");
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'u':
            url = optarg;
            break;
        case 'o':
            o.op = op_code(optarg);
            break;
        case 'U':
            o.user = optarg;
            break;
        case 'P':
            o.password = optarg;
            break;
        case 'n':
            o.new_pin = optarg;
            break;
        case 't':
            o.type = optarg;
            break;
        case 'x':
            o.ext_login = true;
            break;
        case 's':
            o.status_update = true;
            break;
        case 'r':
            reader = optarg;
            break;
        case 'f':
            fake = 1;
            break;
        case 'S':
            o.split = (size_t)strtoul(optarg, NULL, 10);
            break;
        case 'T':
            o.timeout_ms = (int)strtoul(optarg, NULL, 10) * 1000;
            break;
        case 'q':
            o.trace = NULL;
            break;
        case 'C':
            cafile = optarg;
            break;
        default:
            return 2;
        }
    }
    if (!url || o.op < 0) {
        fprintf(stderr, "usage: tps-client --url URL --op enroll|format|reset-pin|renew ...\n");
        return 2;
    }
    o.card = fake ? fake_card_fn : pcsc_card_fn;
    o.card_ctx = &c;
    if (!fake && open_card(&c, reader) < 0) {
        fprintf(stderr, "tps-client: no card in a reader (PCSCLITE_CSOCK_NAME set?)\n");
        goto out;
    }
    c.fd = connect_url(url, host, sizeof(host), port, sizeof(port), path, sizeof(path));
    if (c.fd < 0) {
        fprintf(stderr, "tps-client: cannot connect to %s\n", url);
        goto out;
    }
    if (strncmp(url, "https://", 8) == 0 && (!cafile || start_tls(&c, host, cafile) < 0)) {
        fprintf(stderr, "tps-client: TLS to %s failed (--cacert needed)\n", url);
        goto out;
    }
    snprintf(hostport, sizeof(hostport), "%s:%s", host, port);
    if (tpsd_client_run(c.fd, c.ssl, hostport, path, &o, &r) < 0) {
        if (r.http_status > 0 && r.http_status != 200)
            printf("HTTP %d\n", r.http_status);
        fprintf(stderr, "tps-client: %s\n", r.error);
        goto out;
    }
    printf("END_OP operation=%d result=%d message=%d messages=%u apdus=%u\n", r.operation, r.result,
           r.message, r.messages, r.apdus);
    rc = r.result == 0 ? 0 : 1;
out:
    fflush(stdout);
    if (c.ssl) {
        SSL_shutdown(c.ssl);
        SSL_free(c.ssl);
    }
    SSL_CTX_free(c.sctx);
    if (c.fd >= 0)
        close(c.fd);
    pcsc_disconnect(c.card, false);
    pcsc_close(c.pctx);
    return rc;
}
