/* tls_share: the TLS client context and session cache shared by the process's TPS
 * conversations (tls_share.h). */
#include "tls_share.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct peer_slot {
    char peer[TLS_SHARE_PEER_SZ]; /* "" = free */
    SSL_SESSION *sess;            /* its last resumable session, or NULL */
    unsigned long used;           /* share->tick when last used: the oldest slot goes first */
};

struct tls_share {
    SSL_CTX *ctx;
    const struct tls_anchors *anchors; /* the anchors and their generation it belongs to */
    unsigned long gen;
    unsigned users; /* conversations holding it */
    bool stale;     /* replaced: freed by the last user */
    unsigned long tick;
    struct peer_slot slot[TLS_SHARE_PEERS]; /* guarded by share_mu */
};
static struct tls_share *share_now;
static pthread_mutex_t share_mu = PTHREAD_MUTEX_INITIALIZER;
/* an SSL's share and peer (for the new-session callback) */
static int ix_share = -1, ix_peer = -1;
static pthread_once_t ix_once = PTHREAD_ONCE_INIT;

static void ix_init(void)
{
    ix_share = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    ix_peer = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static void share_free(struct tls_share *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < TLS_SHARE_PEERS; i++)
        SSL_SESSION_free(s->slot[i].sess);
    SSL_CTX_free(s->ctx);
    free(s);
}

/* The slot of peer, or (claim) the free or oldest one, emptied for it. share_mu held. */
static struct peer_slot *slot_of(struct tls_share *s, const char *peer, bool claim)
{
    struct peer_slot *old = &s->slot[0];
    for (size_t i = 0; i < TLS_SHARE_PEERS; i++) {
        if (strcmp(s->slot[i].peer, peer) == 0)
            return &s->slot[i];
        if (s->slot[i].used < old->used) /* a free slot's is 0 */
            old = &s->slot[i];
    }
    if (!claim || strlen(peer) >= sizeof old->peer)
        return NULL;
    SSL_SESSION_free(old->sess);
    old->sess = NULL;
    memcpy(old->peer, peer, strlen(peer) + 1);
    return old;
}

/* OpenSSL hands over each session the server makes (TLS 1.3: its tickets, after the
 * handshake): the newest resumable one is kept for the peer. 1: the reference is taken. */
static int new_session(SSL *ssl, SSL_SESSION *sess)
{
    struct tls_share *s = SSL_get_ex_data(ssl, ix_share);
    const char *peer = SSL_get_ex_data(ssl, ix_peer);
    if (!s || !peer || !SSL_SESSION_is_resumable(sess))
        return 0;
    pthread_mutex_lock(&share_mu);
    struct peer_slot *p = slot_of(s, peer, true);
    if (p) {
        SSL_SESSION_free(p->sess);
        p->sess = sess;
        p->used = ++s->tick;
    }
    pthread_mutex_unlock(&share_mu);
    return p != NULL;
}

static SSL_CTX *ctx_new(X509_STORE *store)
{
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (!c)
        return NULL;
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set1_cert_store(c, store); /* a reference: the store outlives a reread */
    /* a TPS that closes without close_notify reads as the end of the stream: the HTTP framing
     * above, not TLS, says whether the answer was whole */
    SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* a record in one read, not its 5-byte header and then its body (issue 12: system calls) */
    SSL_CTX_set_read_ahead(c, 1);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(c, new_session);
    if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_alpn_protos(c, alpn, sizeof alpn - 1) != 0) {
        SSL_CTX_free(c);
        return NULL;
    }
    return c;
}

struct tls_share *tls_share_take(const struct tls_anchors *a, unsigned long gen, X509_STORE *store,
                                 bool *oom)
{
    pthread_once(&ix_once, ix_init);
    if (ix_share < 0 || ix_peer < 0 || !store)
        return NULL;
    pthread_mutex_lock(&share_mu);
    if (share_now && (share_now->anchors != a || share_now->gen != gen)) {
        if (share_now->users)
            share_now->stale = true;
        else
            share_free(share_now);
        share_now = NULL;
    }
    if (!share_now) {
        struct tls_share *s = calloc(1, sizeof *s);
        if (!s) {
            *oom = true;
        } else if (!(s->ctx = ctx_new(store))) {
            free(s);
        } else {
            s->anchors = a;
            s->gen = gen;
            share_now = s;
        }
    }
    struct tls_share *s = share_now;
    if (s)
        s->users++;
    pthread_mutex_unlock(&share_mu);
    return s;
}

SSL *tls_share_ssl(struct tls_share *s, const char *peer)
{
    SSL *ssl = SSL_new(s->ctx);
    if (!ssl)
        return NULL;
    if (!SSL_set_ex_data(ssl, ix_share, s) || !SSL_set_ex_data(ssl, ix_peer, (void *)peer)) {
        SSL_free(ssl);
        return NULL;
    }
    pthread_mutex_lock(&share_mu);
    struct peer_slot *p = slot_of(s, peer, false);
    if (p && p->sess) {
        (void)SSL_set_session(ssl, p->sess); /* a failure means a full handshake */
        p->used = ++s->tick;
    }
    pthread_mutex_unlock(&share_mu);
    return ssl;
}

void tls_share_give(struct tls_share *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&share_mu);
    if (--s->users == 0 && s->stale)
        share_free(s);
    pthread_mutex_unlock(&share_mu);
}
