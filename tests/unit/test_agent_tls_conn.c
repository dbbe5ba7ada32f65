/* test_agent_tls_conn: the TPS connection's TLS (agent/engine/tls_share.h, tls_conn.h) against
 * an OpenSSL server in a thread, over a socket pair: the chain and the name (an IP address or a
 * DNS name) are verified, a session is resumed only by the same peer and the same reading of
 * the trust anchors, and the handshake ends at its deadline or when the operation is stopped. */
#include "check.h"
#include "clock.h"
#include "engine/op_stop.h"
#include "engine/tls_anchors.h"
#include "engine/tls_conn.h"
#include "engine/tls_share.h"
#include "testcert.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The server's context: a leaf for IP 127.0.0.1 and tps.example.com, from CA `ca`. */
static SSL_CTX *server_ctx(X509 *ca, EVP_PKEY *cakey)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *leaf = testcert_make("tps", "IP:127.0.0.1,DNS:tps.example.com", k, ca, cakey, false);
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (c && (SSL_CTX_use_certificate(c, leaf) != 1 || SSL_CTX_use_PrivateKey(c, k) != 1)) {
        SSL_CTX_free(c);
        c = NULL;
    }
    X509_free(leaf);
    EVP_PKEY_free(k);
    return c;
}

static SSL_CTX *srv, *srv_other; /* a leaf from the trusted CA; one from another CA */
static struct tls_anchors *anchors;
static char dir[] = "/tmp/test_tls_conn.XXXXXX";

struct server {
    pthread_t t;
    SSL_CTX *ctx;
    int fd;
    bool silent; /* takes the connection, says nothing */
    bool hangup; /* closes right after the handshake */
    int reused;  /* -1: the handshake failed */
};

static void *serve(void *arg)
{
    struct server *s = arg;
    SSL *ssl = SSL_new(s->ctx);
    char buf[64];
    sigset_t pipe;
    /* the server's writes may meet a closed client: its SIGPIPE stays with this thread, the
     * client's side (the code under test) runs with SIGPIPE's default action */
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, NULL);
    s->reused = -1;
    if (ssl && SSL_set_fd(ssl, s->fd) == 1 && SSL_accept(ssl) == 1) {
        s->reused = SSL_session_reused(ssl);
        if (!s->hangup) {
            /* a byte for the client to read: reading it takes in the session tickets */
            if (SSL_write(ssl, "k", 1) == 1)
                while (SSL_read(ssl, buf, sizeof buf) > 0) {
                }
            SSL_shutdown(ssl);
        }
    }
    SSL_free(ssl);
    ERR_clear_error();
    close(s->fd);
    return NULL;
}

/* Connect a client SSL of share `sh`, for peer and host, to a server with ctx. Returns the
 * handshake's result; *reused the server's word on resumption; err the sentence. */
static esc_err connect_once(struct tls_share *sh, const char *peer, const char *host, SSL_CTX *ctx,
                            bool silent, uint64_t deadline, struct op_stop *stop, int *reused,
                            char *err, size_t errlen)
{
    int sv[2];
    struct server s = {.ctx = ctx, .silent = silent};
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return ESC_ERR_INTERNAL;
    s.fd = sv[1];
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    if (!silent)
        pthread_create(&s.t, NULL, serve, &s);
    SSL *ssl = tls_share_ssl(sh, peer);
    err[0] = '\0';
    esc_err rc = ssl && tls_conn_expect(ssl, host) == 0
                     ? tls_conn_handshake(ssl, sv[0], deadline, stop, err, errlen)
                     : ESC_ERR_INTERNAL;
    if (rc == ESC_OK) { /* read the server's byte (and, before it, the tickets) */
        char b;
        size_t n = 0;
        for (;;) {
            int r = SSL_read_ex(ssl, &b, 1, &n);
            if (r == 1 || SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ)
                break;
            struct pollfd p = {.fd = sv[0], .events = POLLIN};
            poll(&p, 1, 1000);
        }
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    ERR_clear_error();
    if (silent)
        close(sv[1]);
    else
        shutdown(sv[0], SHUT_RDWR);
    if (!silent)
        pthread_join(s.t, NULL);
    close(sv[0]);
    *reused = s.reused;
    return rc;
}

static struct tls_share *share_now(unsigned long bump)
{
    X509_STORE *st = NULL;
    unsigned long gen = 0;
    char err[256];
    bool oom = false;
    if (tls_anchors_current(anchors, &st, &gen, err, sizeof err) != 0)
        return NULL;
    struct tls_share *s = tls_share_take(anchors, gen + bump, st, &oom);
    X509_STORE_free(st);
    return s;
}

#define FAR (esc_mono_ms() + 60000)

/* An IP address in the URL is checked against the certificate's; the second connection to the
 * same peer resumes the first one's session. */
static void test_ip_verified_and_resumed(void)
{
    char err[256];
    int reused;
    struct tls_share *sh = share_now(0);
    EXPECT(sh != NULL);
    EXPECT_EQ(connect_once(sh, "127.0.0.1:443", "127.0.0.1", srv, false, FAR, NULL, &reused, err,
                           sizeof err),
              ESC_OK);
    EXPECT_EQ(reused, 0);
    EXPECT_EQ(connect_once(sh, "127.0.0.1:443", "127.0.0.1", srv, false, FAR, NULL, &reused, err,
                           sizeof err),
              ESC_OK);
    EXPECT_EQ(reused, 1);
    tls_share_give(sh);
}

/* Another peer (another port) is not offered that session. */
static void test_other_peer_not_resumed(void)
{
    char err[256];
    int reused;
    struct tls_share *sh = share_now(0);
    EXPECT(sh != NULL);
    EXPECT_EQ(connect_once(sh, "127.0.0.1:443", "127.0.0.1", srv, false, FAR, NULL, &reused, err,
                           sizeof err),
              ESC_OK);
    EXPECT_EQ(connect_once(sh, "127.0.0.1:8443", "127.0.0.1", srv, false, FAR, NULL, &reused, err,
                           sizeof err),
              ESC_OK);
    EXPECT_EQ(reused, 0);
    tls_share_give(sh);
}

/* A new reading of the anchors (another generation) starts without sessions. */
static void test_new_reading_not_resumed(void)
{
    char err[256];
    int reused;
    struct tls_share *sh = share_now(0);
    EXPECT(sh != NULL);
    EXPECT_EQ(connect_once(sh, "127.0.0.1:443", "127.0.0.1", srv, false, FAR, NULL, &reused, err,
                           sizeof err),
              ESC_OK);
    struct tls_share *sh2 = share_now(1);
    tls_share_give(sh); /* the old share goes with its last user */
    EXPECT(sh2 != NULL && sh2 != sh);
    EXPECT_EQ(connect_once(sh2, "127.0.0.1:443", "127.0.0.1", srv, false, FAR, NULL, &reused, err,
                           sizeof err),
              ESC_OK);
    EXPECT_EQ(reused, 0);
    tls_share_give(sh2);
}

/* A DNS name is checked too, and a name or address the certificate does not hold is refused
 * as not trusted; so is a certificate from a CA not in the anchors. */
static void test_names_and_chain(void)
{
    char err[256];
    int reused;
    struct tls_share *sh = share_now(2);
    EXPECT(sh != NULL);
    EXPECT_EQ(connect_once(sh, "tps.example.com:443", "tps.example.com", srv, false, FAR, NULL,
                           &reused, err, sizeof err),
              ESC_OK);
    EXPECT_EQ(connect_once(sh, "other.example.com:443", "other.example.com", srv, false, FAR, NULL,
                           &reused, err, sizeof err),
              ESC_ERR_TLS);
    EXPECT(strstr(err, "not trusted") && strstr(err, "mismatch"));
    EXPECT_EQ(connect_once(sh, "127.0.0.2:443", "127.0.0.2", srv, false, FAR, NULL, &reused, err,
                           sizeof err),
              ESC_ERR_TLS);
    EXPECT(strstr(err, "not trusted") && strstr(err, "mismatch"));
    EXPECT_EQ(connect_once(sh, "127.0.0.1:444", "127.0.0.1", srv_other, false, FAR, NULL, &reused,
                           err, sizeof err),
              ESC_ERR_TLS);
    EXPECT(strstr(err, "not trusted") && strstr(err, "issuer"));
    tls_share_give(sh);
}

/* A server that never answers: the handshake ends at its deadline, or at once when the
 * operation is stopped. */
static void test_deadline_and_stop(void)
{
    char err[256];
    int reused;
    struct op_stop st;
    struct tls_share *sh = share_now(3);
    EXPECT(sh != NULL);
    EXPECT_EQ(connect_once(sh, "127.0.0.1:1", "127.0.0.1", srv, true, esc_mono_ms() + 200, NULL,
                           &reused, err, sizeof err),
              ESC_ERR_TPS_TIMEOUT);
    EXPECT(strstr(err, "did not answer in time"));
    op_stop_init(&st, 0);
    op_stop_cancel(&st);
    EXPECT_EQ(
        connect_once(sh, "127.0.0.1:1", "127.0.0.1", srv, true, FAR, &st, &reused, err, sizeof err),
        ESC_ERR_CANCELLED);
    EXPECT(strstr(err, "stopped"));
    op_stop_destroy(&st);
    tls_share_give(sh);
}

/* A TPS that closed its side: writing to it fails (EPIPE), it does not kill the process with
 * SIGPIPE, whose default action this test keeps (the agent's hand-off modes do too). */
static void test_peer_gone_no_sigpipe(void)
{
    char err[256];
    int sv[2];
    size_t n = 0;
    struct server s = {.ctx = srv, .hangup = true};
    struct tls_share *sh = share_now(4);
    EXPECT(sh != NULL);
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    s.fd = sv[1];
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    pthread_create(&s.t, NULL, serve, &s);
    SSL *ssl = tls_share_ssl(sh, "127.0.0.1:443");
    EXPECT(ssl != NULL);
    EXPECT_EQ(tls_conn_expect(ssl, "127.0.0.1"), 0);
    EXPECT_EQ(tls_conn_handshake(ssl, sv[0], FAR, NULL, err, sizeof err), ESC_OK);
    pthread_join(s.t, NULL); /* the server has closed its end */
    int r = 1;
    for (int i = 0; i < 4 && r == 1; i++) /* the first write may still find room */
        r = SSL_write_ex(ssl, "s=1&msg_type=3", 14, &n);
    EXPECT(r != 1);
    SSL_free(ssl);
    ERR_clear_error();
    close(sv[0]);
    tls_share_give(sh);
}

int main(void)
{
    EVP_PKEY *ck = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *ok = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *ca = testcert_make("Test TPS CA", NULL, ck, NULL, NULL, true);
    X509 *other = testcert_make("Other CA", NULL, ok, NULL, NULL, true);
    char path[128];
    FILE *f;
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/ca.pem", dir);
    if (!(f = fopen(path, "w")) || PEM_write_X509(f, ca) != 1 || fclose(f) != 0)
        return 1;
    /* older than TLS_ANCHORS_RACY_S: one reading for the whole test */
    struct timespec t[2] = {{.tv_sec = time(NULL) - 100}, {.tv_sec = time(NULL) - 100}};
    utimensat(AT_FDCWD, path, t, 0);
    anchors = tls_anchors_get(path);
    srv = server_ctx(ca, ck);
    srv_other = server_ctx(other, ok);
    if (!anchors || !srv || !srv_other)
        return 1;
    RUN(test_ip_verified_and_resumed);
    RUN(test_other_peer_not_resumed);
    RUN(test_new_reading_not_resumed);
    RUN(test_names_and_chain);
    RUN(test_deadline_and_stop);
    RUN(test_peer_gone_no_sigpipe);
    SSL_CTX_free(srv);
    SSL_CTX_free(srv_other);
    X509_free(ca);
    X509_free(other);
    EVP_PKEY_free(ck);
    EVP_PKEY_free(ok);
    unlink(path);
    rmdir(dir);
    return check_status();
}
