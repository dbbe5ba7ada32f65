/* test_ph_fetch: phone home over HTTP against a tiny server started here: the GET carries
 * ?cuid=, a cached profile means no request, --refresh forces one, refused hosts get no
 * request at all, HTTP errors and oversize answers are clear failures. */
#include "check.h"
#include "engine/phone_home.h"
#include "engine/trust.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char xml[] = "<ServiceInfo><IssuerName>Test Issuer</IssuerName><Services>"
                          "<Operation>http://127.0.0.1:9/tps/tps</Operation>"
                          "<TokenType>userKey</TokenType></Services></ServiceInfo>";

enum { S_OK, S_404, S_HUGE, S_SLOW };

static int port;
static pid_t srv;
static int cnt_pipe[2];

/* Serve until killed; write one byte to cnt_pipe per request; check the request line. */
static void serve(int lfd, int mode)
{
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        char req[4096];
        size_t n = 0;
        if (fd < 0)
            _exit(1);
        while (n < sizeof req - 1 && !memmem(req, n, "\r\n\r\n", 4)) {
            ssize_t r = read(fd, req + n, sizeof req - 1 - n);
            if (r <= 0)
                break;
            n += (size_t)r;
        }
        req[n] = 0;
        char c = strncmp(req, "GET /tps/phoneHome?cuid=40906145C76224192D2B HTTP/1.1", 53) == 0
                     ? 'g'
                     : 'b';
        if (write(cnt_pipe[1], &c, 1) != 1)
            _exit(1);
        char hdr[256];
        if (mode == S_404) {
            const char *r = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            if (write(fd, r, strlen(r)) < 0)
                _exit(1);
        } else if (mode == S_SLOW) {
            sleep(5); /* a server that takes the request and does not answer */
        } else if (mode == S_HUGE) {
            const char *r = "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n\r\n";
            static char junk[PH_XML_MAX * 2];
            memset(junk, ' ', sizeof junk);
            if (write(fd, r, strlen(r)) < 0 || write(fd, junk, sizeof junk) < 0) {
            }
        } else {
            int h = snprintf(hdr, sizeof hdr,
                             "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
                             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                             strlen(xml));
            if (write(fd, hdr, (size_t)h) < 0 || write(fd, xml, strlen(xml)) < 0)
                _exit(1);
        }
        close(fd);
    }
}

static void start(int mode)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (pipe(cnt_pipe) < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(lfd, 8) < 0 || getsockname(lfd, (struct sockaddr *)&a, &al) < 0)
        exit(2);
    port = ntohs(a.sin_port);
    srv = fork();
    if (srv == 0) {
        close(cnt_pipe[0]);
        alarm(20);
        serve(lfd, mode);
    }
    close(lfd);
    close(cnt_pipe[1]);
}

/* Stop the server; return how many requests it saw ('g' good ones count 1, others 100). */
static int stop(void)
{
    char buf[64];
    int total = 0;
    kill(srv, SIGTERM);
    waitpid(srv, NULL, 0);
    ssize_t r;
    while ((r = read(cnt_pipe[0], buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < r; i++)
            total += buf[i] == 'g' ? 1 : 100;
    close(cnt_pipe[0]);
    return total;
}

static char cache[64];
static const struct trust_policy loopback_trust = {.allowed_hosts = "127.0.0.1 localhost",
                                                   .allow_http_hosts = "127.0.0.1 localhost"};

static void test_fetch_then_cached_then_refresh(void)
{
    char url[128], err[256];
    struct ph_profile p;
    bool cached = true;
    unsigned req = 0;
    struct ph_opts o = {.trust = &loopback_trust, .timeout_ms = 3000, .cache_dir = cache};
    start(S_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/tps/phoneHome", port);
    EXPECT_EQ(ph_get(url, "40906145C76224192D2B", &o, &p, &cached, &req, err, sizeof err), ESC_OK);
    EXPECT(!cached);
    EXPECT_STR(p.issuer, "Test Issuer");
    EXPECT_STR(p.operation, "http://127.0.0.1:9/tps/tps");
    EXPECT_STR(p.source_url, url);
    /* second insertion: the cache answers, no request */
    memset(&p, 0, sizeof p);
    EXPECT_EQ(ph_get(url, "40906145C76224192D2B", &o, &p, &cached, &req, err, sizeof err), ESC_OK);
    EXPECT(cached);
    EXPECT_STR(p.token_type, "userKey");
    o.refresh = true;
    EXPECT_EQ(ph_get(url, "40906145C76224192D2B", &o, &p, &cached, &req, err, sizeof err), ESC_OK);
    EXPECT(!cached);
    EXPECT_EQ(req, 2u);
    /* the card now names another phone-home URL: the cached profile no longer answers */
    o.refresh = false;
    snprintf(url, sizeof url, "http://localhost:%d/tps/phoneHome", port);
    EXPECT_EQ(ph_get(url, "40906145C76224192D2B", &o, &p, &cached, &req, err, sizeof err), ESC_OK);
    EXPECT(!cached);
    EXPECT_STR(p.source_url, url);
    /* no URL at all: the cache answers */
    EXPECT_EQ(ph_get(NULL, "40906145C76224192D2B", &o, &p, &cached, &req, err, sizeof err), ESC_OK);
    EXPECT(cached);
    EXPECT_EQ(req, 3u);
    EXPECT_EQ(stop(), 3); /* the server saw exactly three well-formed GETs */
}

static void test_refused_hosts_make_no_request(void)
{
    char url[128], err[256];
    struct ph_profile p;
    unsigned req = 0;
    struct trust_policy tp = {.allowed_hosts = "tps.example.com", .allow_http_hosts = ""};
    struct ph_opts o = {.trust = &tp, .timeout_ms = 3000};
    start(S_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/tps/phoneHome", port);
    EXPECT_EQ(ph_fetch(url, "40906145C76224192D2B", &o, &p, &req, err, sizeof err),
              ESC_ERR_UNTRUSTED_HOST);
    EXPECT(strstr(err, "127.0.0.1") && strstr(err, "allowed_hosts"));
    tp.allowed_hosts = "127.0.0.1";
    EXPECT_EQ(ph_fetch(url, "40906145C76224192D2B", &o, &p, &req, err, sizeof err),
              ESC_ERR_UNTRUSTED_HOST);
    EXPECT(strstr(err, "https") != NULL);
    EXPECT_EQ(req, 0u);
    EXPECT_EQ(stop(), 0);
}

static void test_http_error_and_oversize(void)
{
    char url[128], err[256];
    struct ph_profile p;
    struct ph_opts o = {.trust = &loopback_trust, .timeout_ms = 3000};
    start(S_404);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/tps/phoneHome", port);
    EXPECT_EQ(ph_fetch(url, "40906145C76224192D2B", &o, &p, NULL, err, sizeof err), ESC_ERR_SERVER);
    EXPECT(strstr(err, "404") != NULL);
    stop();
    start(S_HUGE);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/tps/phoneHome", port);
    EXPECT_EQ(ph_fetch(url, "40906145C76224192D2B", &o, &p, NULL, err, sizeof err), ESC_ERR_SERVER);
    /* one sentence, without libcurl's own words (issue 11's fault matrix, ph_huge) */
    EXPECT(strcmp(err, "The phone-home answer is too large (over 65536 bytes).") == 0);
    stop();
    /* a server that does not answer: named, with the deadline (the matrix's ph_slow) */
    o.timeout_ms = 400;
    start(S_SLOW);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/tps/phoneHome", port);
    EXPECT_EQ(ph_fetch(url, "40906145C76224192D2B", &o, &p, NULL, err, sizeof err),
              ESC_ERR_NETWORK);
    EXPECT(strcmp(err, "The phone-home server did not answer within 1 second.") == 0);
    stop();
}

/* ph_get with stderr (where the log goes) captured into log; returns its esc_err (-1: no capture).
 */
static int get_logged(const char *url, struct ph_opts *o, struct ph_profile *p, bool *cached,
                      unsigned *req, char *log, size_t logcap)
{
    char err[256];
    FILE *f = tmpfile();
    int saved = dup(2), rc;
    size_t n = 0;
    if (!f || saved < 0 || dup2(fileno(f), 2) < 0)
        return -1;
    rc = ph_get(url, "40906145C76224192D2B", o, p, cached, req, err, sizeof err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(f);
    n = fread(log, 1, logcap - 1, f);
    log[n] = '\0';
    fclose(f);
    return rc;
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The cache only saves a request: a cache_dir that cannot be written costs one warning line,
 * not the operation; a corrupt cache file, a directory or a FIFO in its place is ignored
 * (and never waited on), and the profile is fetched. */
static void test_bad_cache_does_not_stop_phone_home(void)
{
    char url[128], dir[128], file[160], log[4096];
    struct ph_profile p;
    bool cached = true;
    unsigned req = 0;
    struct ph_opts o = {.trust = &loopback_trust, .timeout_ms = 3000};
    FILE *f;

    start(S_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/tps/phoneHome", port);
    /* under a regular file: nobody, not even root, can create it */
    snprintf(file, sizeof file, "%s/plain-file", cache);
    f = fopen(file, "w");
    EXPECT(f != NULL);
    fclose(f);
    snprintf(dir, sizeof dir, "%s/plain-file/esc", cache);
    o.cache_dir = dir;
    EXPECT_EQ(get_logged(url, &o, &p, &cached, &req, log, sizeof log), ESC_OK);
    EXPECT(!cached);
    EXPECT_STR(p.operation, "http://127.0.0.1:9/tps/tps");
    EXPECT_EQ(lines(log), 1);
    EXPECT(strstr(log, "warn: The phone-home cache could not be written") != NULL);
    EXPECT(strstr(log, dir) != NULL && strstr(log, "without caching") != NULL);

    /* a cache dir two levels deep that does not exist yet is made */
    snprintf(dir, sizeof dir, "%s/new/esc", cache);
    snprintf(file, sizeof file, "%s/40906145C76224192D2B.profile", dir);
    EXPECT_EQ(get_logged(url, &o, &p, &cached, &req, log, sizeof log), ESC_OK);
    EXPECT_STR(log, "");
    EXPECT(access(file, R_OK) == 0);
    /* corrupt: ignored, fetched again, rewritten (the next call is answered by the cache) */
    f = fopen(file, "w");
    EXPECT(f != NULL);
    fputs("pam_esc-profile 1\ncuid=40906145C76224192D2B\noperation=http://evil/\n\x01", f);
    fclose(f);
    EXPECT_EQ(get_logged(url, &o, &p, &cached, &req, log, sizeof log), ESC_OK);
    EXPECT(!cached);
    EXPECT_STR(p.operation, "http://127.0.0.1:9/tps/tps");
    EXPECT_EQ(get_logged(url, &o, &p, &cached, &req, log, sizeof log), ESC_OK);
    EXPECT(cached);
    /* a FIFO in its place: not opened for a blocking read, ignored, replaced */
    EXPECT_EQ(unlink(file), 0);
    EXPECT_EQ(mkfifo(file, 0600), 0);
    EXPECT_EQ(get_logged(url, &o, &p, &cached, &req, log, sizeof log), ESC_OK);
    EXPECT(!cached);
    EXPECT_STR(log, "");
    /* a directory in its place: ignored, cannot be replaced: one warning */
    EXPECT_EQ(unlink(file), 0);
    EXPECT_EQ(mkdir(file, 0700), 0);
    EXPECT_EQ(get_logged(url, &o, &p, &cached, &req, log, sizeof log), ESC_OK);
    EXPECT(!cached);
    EXPECT_EQ(lines(log), 1);
    EXPECT(strstr(log, "could not be written") != NULL);
    EXPECT_EQ(req, 5u); /* one per call but the one the cache answered */
    EXPECT_EQ(stop(), 5);
}

static void test_no_url_and_pick(void)
{
    char err[256];
    struct ph_profile p;
    struct trust_policy tp = {.allowed_hosts = "x"};
    struct ph_opts o = {.trust = &tp};
    /* no URL: esc.conf's problem, said in one sentence that names the way out */
    EXPECT_EQ(ph_fetch(NULL, "00AA", &o, &p, NULL, err, sizeof err), ESC_ERR_CONF);
    EXPECT(strstr(err, "phone_home_url") != NULL);
    EXPECT_STR(ph_pick_url("cli", "card", "conf"), "cli");
    EXPECT_STR(ph_pick_url(NULL, "card", "conf"), "card");
    EXPECT_STR(ph_pick_url("", "", "conf"), "conf");
    EXPECT(ph_pick_url(NULL, NULL, "") == NULL);
}

int main(void)
{
    char tmpl[] = "/tmp/test_ph_fetch_XXXXXX";
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    alarm(120); /* a cache read that blocks (a FIFO) ends the test instead of hanging it */
    if (!mkdtemp(tmpl))
        return 1;
    snprintf(cache, sizeof cache, "%s", tmpl);
    RUN(test_fetch_then_cached_then_refresh);
    RUN(test_refused_hosts_make_no_request);
    RUN(test_http_error_and_oversize);
    RUN(test_bad_cache_does_not_stop_phone_home);
    RUN(test_no_url_and_pick);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
    if (system(cmd) != 0)
        return 1;
    curl_global_cleanup();
    return check_status();
}
