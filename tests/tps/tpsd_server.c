/* tpsd_server: listeners, connection threads, HTTP routing. */
#include "tpsd_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tpsd_conn.h"
#include "tpsd_faults.h"
#include "tpsd_http.h"
#include "tpsd_log.h"
#include "tpsd_phonehome.h"
#include "tpsd_session.h"
#include "tpsd_stats.h"

#define HEAD_TIMEOUT_MS 10000
#define MAX_CONNECTIONS 64

static unsigned long next_conn_id;
static int active_connections;
static pthread_mutex_t server_lock = PTHREAD_MUTEX_INITIALIZER;

static int listen_on(const char *addr, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd, one = 1;
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        tpsd_log(0, "bad bind address %s", addr);
        return -1;
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
        tpsd_log(0, "cannot listen on %s:%d: %s", addr, port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int tpsd_server_listen(struct tpsd_server *s)
{
    const struct tpsd_config *c = s->ctx->cfg;
    s->http_fd = s->https_fd = -1;
    s->http_port = c->http_port;
    s->https_port = c->https_port;
    if (c->http_port && (s->http_fd = listen_on(c->bind_addr, c->http_port)) < 0)
        return -1;
    if (c->https_port && s->tls && (s->https_fd = listen_on(c->bind_addr, c->https_port)) < 0)
        return -1;
    return 0;
}

static void respond(struct tpsd_conn *conn, int status, const char *reason, const char *ctype,
                    const char *body, size_t body_len, int close_after, const char *extra)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
                     status, reason, ctype, body_len, extra ? extra : "",
                     close_after ? "Connection: close\r\n" : "");
    char *all = malloc((size_t)n + body_len);
    if (!all)
        return;
    memcpy(all, head, (size_t)n);
    memcpy(all + n, body, body_len);
    tpsd_conn_write(conn, all, (size_t)n + body_len, tpsd_now_ms() + 5000);
    free(all);
}

static const char *reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

static void respond_error(struct tpsd_conn *conn, int status, const char *extra)
{
    char body[128];
    int n = snprintf(body, sizeof(body), "%d %s\n", status, reason_of(status));
    respond(conn, status, reason_of(status), "text/plain", body, (size_t)n, 1, extra);
}

static void serve_phone_home(struct tpsd_server *s, struct tpsd_conn *conn,
                             const struct tpsd_http_req *r, int close_after)
{
    char xml[4096], cuid[64] = "";
    size_t n = tpsd_phonehome_xml(s->ctx->cfg, s->operation_url, xml, sizeof(xml));
    tpsd_http_query_get(r->query, "cuid", cuid, sizeof(cuid));
    tpsd_stats_add(ST_PHONE_HOME, 1);
    tpsd_log(conn->id, "phone home%s%s", cuid[0] ? " for CUID " : "", cuid);
    if (n == 0) {
        respond_error(conn, 500, NULL);
        return;
    }
    respond(conn, 200, "OK", "application/xml", xml, strcmp(r->method, "HEAD") ? n : 0, close_after,
            NULL);
}

/* The phone_home_body fault: the bytes of a file as the phone-home answer (hostile XML). */
static void serve_file(struct tpsd_conn *conn, unsigned long id, const char *path)
{
    FILE *fp = fopen(path, "re");
    size_t cap = 64u << 20, n = 0;
    char *body = fp ? malloc(cap) : NULL;
    if (body)
        n = fread(body, 1, cap, fp);
    if (fp)
        fclose(fp);
    tpsd_log(id, "fault: phone home answers %zu bytes of %s", n, path);
    if (!body) {
        respond_error(conn, 500, NULL);
        return;
    }
    respond(conn, 200, "OK", "application/xml", body, n, 1, NULL);
    free(body);
}

static void serve_stats(struct tpsd_conn *conn, int close_after)
{
    char body[1024];
    size_t n;
    tpsd_stats_add(ST_STATS_REQUESTS, 1);
    n = tpsd_stats_render(body, sizeof(body));
    respond(conn, 200, "OK", "text/plain", body, n, close_after, NULL);
}

/* POST /tps/tps. Returns true if the connection may carry another request. */
static bool serve_tps(struct tpsd_server *s, struct tpsd_conn *conn, const struct tpsd_http_req *r,
                      const struct tpsd_faults *f, const char *rest, size_t rest_len, int *counted,
                      int *ops)
{
    bool reuse;
    static const char ok[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (f->http_status) {
        tpsd_log(conn->id, "fault: answering HTTP %d", f->http_status);
        respond_error(conn, f->http_status, NULL);
        return false;
    }
    if (strcmp(r->method, "POST") != 0) {
        respond_error(conn, 405, "Allow: POST\r\n");
        return false;
    }
    if (!r->chunked) {
        respond_error(conn, 400, NULL);
        return false;
    }
    if (!*counted) {
        tpsd_stats_add(ST_TPS_CONNECTIONS, 1);
        *counted = 1;
    }
    if (r->expect_100 && tpsd_conn_write(conn, cont, sizeof(cont) - 1, tpsd_now_ms() + 5000) < 0)
        return false;
    /* headers go out at once, before any message is read (TPSServlet flushes them) */
    if (tpsd_conn_write(conn, ok, sizeof(ok) - 1, tpsd_now_ms() + 5000) < 0)
        return false;
    reuse = tpsd_session_run(s->ctx, conn, f, rest, rest_len);
    tpsd_stats_max(ST_MAX_OPS_PER_CONNECTION, (unsigned long)++*ops);
    return reuse;
}

void tpsd_server_handle(struct tpsd_server *s, int fd, int tls)
{
    struct tpsd_conn conn;
    struct tpsd_faults faults;
    char *buf = malloc(TPSD_HTTP_HEAD_MAX + 1);
    size_t have = 0;
    unsigned long id;
    int tps_counted = 0, ph_counted = 0, ops = 0;
    pthread_mutex_lock(&server_lock);
    id = ++next_conn_id;
    pthread_mutex_unlock(&server_lock);
    tpsd_stats_add(ST_CONNECTIONS, 1);
    if (tls)
        tpsd_stats_add(ST_TLS_CONNECTIONS, 1);
    /* re-read per connection: a test changes faults without restarting the TPS */
    tpsd_faults_load(&faults, s->ctx->cfg->faults_path);
    if (!buf || tpsd_conn_init(&conn, fd, id, tls ? s->tls : NULL, HEAD_TIMEOUT_MS) < 0) {
        if (!buf)
            close(fd); /* tpsd_conn_init closes nothing: the fd is still ours */
        else
            tpsd_conn_close(&conn);
        free(buf);
        return;
    }
    for (;;) {
        struct tpsd_http_req req;
        long head = 0;
        int close_after;
        while ((head = tpsd_http_head_len(buf, have)) == 0) {
            ssize_t n = tpsd_conn_read(&conn, buf + have, TPSD_HTTP_HEAD_MAX - have,
                                       tpsd_now_ms() + HEAD_TIMEOUT_MS);
            if (n <= 0)
                goto out;
            have += (size_t)n;
        }
        if (head < 0 || tpsd_http_parse(&req, buf, (size_t)head) < 0) {
            tpsd_log(id, "malformed HTTP request");
            respond_error(&conn, 400, NULL);
            goto out;
        }
        tpsd_log(id, "%s %s%s", req.method, req.path, tls ? " (TLS)" : "");
        close_after = req.conn_close || req.minor == 0 || req.has_length || req.has_te;
        if (strcmp(req.path, "/tps/tps") == 0) {
            if (!serve_tps(s, &conn, &req, &faults, buf + head, have - (size_t)head, &tps_counted,
                           &ops))
                goto out;
            if (req.conn_close || req.minor == 0)
                goto out;
            have = 0; /* anything pipelined behind the conversation is not supported */
            continue;
        }
        if (strcmp(req.path, "/tps/phoneHome") == 0 &&
            (!strcmp(req.method, "GET") || !strcmp(req.method, "HEAD"))) {
            if (!ph_counted++)
                tpsd_stats_add(ST_PHONE_HOME_CONNECTIONS, 1);
            if (faults.phone_home_stall_secs) {
                tpsd_log(id, "fault: phone home waits %u s", faults.phone_home_stall_secs);
                sleep(faults.phone_home_stall_secs);
            }
            if (faults.phone_home_redirect[0]) {
                char loc[300];
                snprintf(loc, sizeof(loc), "Location: %s\r\n", faults.phone_home_redirect);
                tpsd_log(id, "fault: phone home redirects to %s", faults.phone_home_redirect);
                respond(&conn, 302, "Found", "text/plain", "", 0, 1, loc);
                goto out;
            }
            if (faults.phone_home_body[0]) {
                serve_file(&conn, id, faults.phone_home_body);
                goto out;
            }
            if (faults.phone_home_status) {
                tpsd_log(id, "fault: phone home answers HTTP %d", faults.phone_home_status);
                respond_error(&conn, faults.phone_home_status, NULL);
                goto out;
            }
            serve_phone_home(s, &conn, &req, close_after);
        } else if (strcmp(req.path, "/tps/stats") == 0 && !strcmp(req.method, "GET")) {
            serve_stats(&conn, close_after);
        } else if (strcmp(req.path, "/tps/phoneHome") == 0 || strcmp(req.path, "/tps/stats") == 0) {
            respond_error(&conn, 405, "Allow: GET\r\n");
            goto out;
        } else {
            respond_error(&conn, 404, NULL);
            goto out;
        }
        if (close_after)
            goto out;
        memmove(buf, buf + head, have - (size_t)head);
        have -= (size_t)head;
    }
out:
    tpsd_conn_close(&conn);
    free(buf);
}

struct conn_arg {
    struct tpsd_server *s;
    int fd, tls;
};

static void *conn_thread(void *p)
{
    struct conn_arg a = *(struct conn_arg *)p;
    free(p);
    tpsd_server_handle(a.s, a.fd, a.tls);
    pthread_mutex_lock(&server_lock);
    active_connections--;
    pthread_mutex_unlock(&server_lock);
    return NULL;
}

static void accept_one(struct tpsd_server *s, int lfd, int tls)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    struct conn_arg *a;
    pthread_t th;
    pthread_attr_t attr;
    if (fd < 0)
        return;
    pthread_mutex_lock(&server_lock);
    if (active_connections >= MAX_CONNECTIONS) {
        pthread_mutex_unlock(&server_lock);
        tpsd_log(0, "too many connections: refusing one");
        close(fd);
        return;
    }
    active_connections++;
    pthread_mutex_unlock(&server_lock);
    a = malloc(sizeof(*a));
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (!a ||
        (*a = (struct conn_arg){s, fd, tls}, pthread_create(&th, &attr, conn_thread, a)) != 0) {
        free(a);
        close(fd);
        pthread_mutex_lock(&server_lock);
        active_connections--;
        pthread_mutex_unlock(&server_lock);
    }
    pthread_attr_destroy(&attr);
}

void tpsd_server_run(struct tpsd_server *s, volatile int *stop)
{
    while (!*stop) {
        struct pollfd p[2];
        nfds_t n = 0;
        int tls_of[2];
        if (s->http_fd >= 0)
            p[n] = (struct pollfd){.fd = s->http_fd, .events = POLLIN}, tls_of[n++] = 0;
        if (s->https_fd >= 0)
            p[n] = (struct pollfd){.fd = s->https_fd, .events = POLLIN}, tls_of[n++] = 1;
        if (poll(p, n, 200) <= 0)
            continue;
        for (nfds_t i = 0; i < n; i++)
            if (p[i].revents & POLLIN)
                accept_one(s, p[i].fd, tls_of[i]);
    }
}
