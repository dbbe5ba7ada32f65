/* tps: the rig's reference Dogtag TPS (tests/tps/README.md). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testca.h"
#include "tpsd_config.h"
#include "tpsd_log.h"
#include "tpsd_op.h"
#include "tpsd_server.h"
#include "tpsd_stats.h"
#include "tpsd_tls.h"

static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int write_ready(const char *path, const struct tpsd_server *s)
{
    char tmp[4200];
    FILE *fp;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fp = fopen(tmp, "we");
    if (!fp)
        return -1;
    fprintf(fp, "pid=%ld\nhttp_port=%d\nhttps_port=%d\noperation_url=%s\n", (long)getpid(),
            s->http_port, s->https_port, s->operation_url);
    if (fclose(fp) != 0)
        return -1;
    return rename(tmp, path);
}

int main(int argc, char **argv)
{
    struct tpsd_config cfg;
    struct tpsd_ctx ctx;
    struct tpsd_server srv;
    struct sigaction sa;
    if (tpsd_config_parse(&cfg, argc, argv) < 0)
        return 2;
    if (tpsd_log_open(cfg.log_path) < 0)
        fprintf(stderr, "tps: cannot open log %s, using stderr\n", cfg.log_path);
    tpsd_log_set_verbose(cfg.verbose);
    memset(&ctx, 0, sizeof(ctx));
    memset(&srv, 0, sizeof(srv));
    ctx.cfg = &cfg;
    ctx.ca = testca_open(cfg.ca_dir);
    if (!ctx.ca) {
        tpsd_log(0, "cannot open the test CA in %s", cfg.ca_dir);
        return 1;
    }
    snprintf(ctx.issuer_info, sizeof(ctx.issuer_info), "%s",
             cfg.issuer_info ? cfg.issuer_info : "");
    if (!cfg.issuer_info && cfg.http_port)
        snprintf(ctx.issuer_info, sizeof(ctx.issuer_info), "http://%s:%d/tps/phoneHome",
                 cfg.bind_addr, cfg.http_port);
    if (cfg.operation_url)
        snprintf(srv.operation_url, sizeof(srv.operation_url), "%s", cfg.operation_url);
    else if (cfg.https_port)
        snprintf(srv.operation_url, sizeof(srv.operation_url), "https://%s:%d/tps/tps",
                 cfg.bind_addr, cfg.https_port);
    else
        snprintf(srv.operation_url, sizeof(srv.operation_url), "http://%s:%d/tps/tps",
                 cfg.bind_addr, cfg.http_port);
    srv.ctx = &ctx;
    if (cfg.https_port && !(srv.tls = tpsd_tls_context(cfg.ca_dir, cfg.tls_cert_out)))
        return 1;
    tpsd_stats_init(cfg.stats_path);
    if (tpsd_server_listen(&srv) < 0)
        return 1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    tpsd_log(0, "listening: http %d, https %d; phone home operation %s", srv.http_port,
             srv.https_port, srv.operation_url);
    if (cfg.ready_path && write_ready(cfg.ready_path, &srv) < 0)
        tpsd_log(0, "cannot write %s", cfg.ready_path);
    tpsd_server_run(&srv, &stop_flag);
    tpsd_log(0, "stopping");
    SSL_CTX_free(srv.tls);
    testca_close(ctx.ca);
    return 0;
}
