/* tls_share: the TLS session cache shared by the process's TPS conversations (tls_share.h). */
#include "tls_share.h"

#include <pthread.h>
#include <stdlib.h>

struct tls_share {
    CURLSH *sh;
    const struct tls_anchors *anchors; /* the anchors and their generation it belongs to */
    unsigned long gen;
    unsigned users; /* conversations holding it */
    bool stale;     /* replaced: freed by the last user */
};
static struct tls_share *share_now;
static pthread_mutex_t share_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t tls_share_mu[CURL_LOCK_DATA_LAST];
static pthread_once_t tls_share_once = PTHREAD_ONCE_INIT;

static void tls_share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
    (void)h, (void)a, (void)u;
    pthread_mutex_lock(&tls_share_mu[d < CURL_LOCK_DATA_LAST ? d : 0]);
}

static void tls_share_unlock(CURL *h, curl_lock_data d, void *u)
{
    (void)h, (void)u;
    pthread_mutex_unlock(&tls_share_mu[d < CURL_LOCK_DATA_LAST ? d : 0]);
}

static void tls_share_init(void)
{
    for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&tls_share_mu[i], NULL);
}

static void share_free(struct tls_share *s)
{
    if (s) {
        curl_share_cleanup(s->sh);
        free(s);
    }
}

static struct tls_share *share_new(const struct tls_anchors *a, unsigned long gen, bool *oom)
{
    struct tls_share *s = calloc(1, sizeof *s);
    if (!s) {
        *oom = true; /* like every other allocation of the conversation: it stops */
        return NULL;
    }
    if (!(s->sh = curl_share_init()) ||
        curl_share_setopt(s->sh, CURLSHOPT_LOCKFUNC, tls_share_lock) != CURLSHE_OK ||
        curl_share_setopt(s->sh, CURLSHOPT_UNLOCKFUNC, tls_share_unlock) != CURLSHE_OK ||
        curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
        share_free(s);
        return NULL; /* full handshakes, as before */
    }
    s->anchors = a;
    s->gen = gen;
    return s;
}

struct tls_share *tls_share_take(const struct tls_anchors *a, unsigned long gen, bool *oom)
{
    pthread_once(&tls_share_once, tls_share_init);
    pthread_mutex_lock(&share_mu);
    if (share_now && (share_now->anchors != a || share_now->gen != gen)) {
        if (share_now->users)
            share_now->stale = true;
        else
            share_free(share_now);
        share_now = NULL;
    }
    if (!share_now)
        share_now = share_new(a, gen, oom);
    struct tls_share *s = share_now;
    if (s)
        s->users++;
    pthread_mutex_unlock(&share_mu);
    return s;
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

CURLSH *tls_share_handle(const struct tls_share *s)
{
    return s->sh;
}
