/* tpsd_server: the listeners (HTTP and HTTPS on loopback), one thread per connection, and
 * the routes: POST /tps/tps (the conversation; 405 for another method, 400 without chunked
 * transfer encoding, as Dogtag's TPSServlet), GET /tps/phoneHome (ServiceInfo XML),
 * GET /tps/stats (counters). */
#ifndef TPSD_SERVER_H
#define TPSD_SERVER_H

#include <openssl/ssl.h>

#include "tpsd_op.h"

struct tpsd_server {
    const struct tpsd_ctx *ctx;
    SSL_CTX *tls;            /* NULL: no HTTPS listener */
    char operation_url[512]; /* <Operation> in the phone-home XML */
    int http_fd, https_fd;   /* -1 when off */
    int http_port, https_port;
};

/* Opens the listeners. 0, or -1 (logged). */
int tpsd_server_listen(struct tpsd_server *s);
/* Accepts connections until *stop becomes non-zero. */
void tpsd_server_run(struct tpsd_server *s, volatile int *stop);
/* Serves one accepted connection (blocking; used by the threads and by tests). */
void tpsd_server_handle(struct tpsd_server *s, int fd, int tls);

#endif
