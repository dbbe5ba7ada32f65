/* test_tps_phonehome: the reference TPS's ServiceInfo XML (tps-protocol.md §7) and its
 * counters: every configured value appears escaped, a small buffer is refused, counters render
 * as key=value lines and reach the stats file atomically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "tpsd_config.h"
#include "tpsd_phonehome.h"
#include "tpsd_stats.h"

static void test_xml(void)
{
    struct tpsd_config c;
    char *argv[] = {"tps",  "--ca-dir",      "/nonexistent", "--http-port",
                    "8080", "--issuer-name", "A&B <Rig>",    NULL};
    char xml[2048];
    size_t n;
    EXPECT_EQ(tpsd_config_parse(&c, 7, argv), 0);
    n = tpsd_phonehome_xml(&c, "https://127.0.0.1:8443/tps/tps", xml, sizeof(xml));
    EXPECT(n > 0 && n == strlen(xml));
    EXPECT(strncmp(xml, "<?xml version=\"1.0\"", 19) == 0);
    EXPECT(strstr(xml, "<IssuerName>A&amp;B &lt;Rig&gt;</IssuerName>") != NULL);
    EXPECT(strstr(xml, "<Operation>https://127.0.0.1:8443/tps/tps</Operation>") != NULL);
    EXPECT(strstr(xml, "<TokenType>userKey</TokenType>") != NULL);
    EXPECT(strstr(xml, "<UI></UI>") != NULL);
    EXPECT_EQ(tpsd_phonehome_xml(&c, "x", xml, 100), 0);
}

static void test_config_rejects(void)
{
    struct tpsd_config c;
    char *no_port[] = {"tps", "--ca-dir", "/x", NULL};
    char *bad_auth[] = {"tps", "--ca-dir", "/x",           "--http-port",
                        "1",   "--auth",   "userKey.x=on", NULL};
    char *good_auth[] = {"tps",    "--ca-dir",           "/x", "--http-port", "1",
                         "--auth", "userKey.format=off", NULL};
    EXPECT_EQ(tpsd_config_parse(&c, 3, no_port), -1);
    EXPECT_EQ(tpsd_config_parse(&c, 7, bad_auth), -1);
    EXPECT_EQ(tpsd_config_parse(&c, 7, good_auth), 0);
    EXPECT(!c.auth[TT_USERKEY][OI_FORMAT]);
    EXPECT(c.auth[TT_USERKEY][OI_ENROLL]);
    EXPECT(!c.auth[TT_NOAUTH][OI_ENROLL]);
}

static void test_stats_file(void)
{
    char path[] = "/tmp/test_tps_stats.XXXXXX", buf[1024];
    int fd = mkstemp(path);
    FILE *fp;
    size_t n;
    EXPECT(fd >= 0);
    close(fd);
    tpsd_stats_init(path);
    tpsd_stats_add(ST_PHONE_HOME, 2);
    tpsd_stats_add(ST_TPS_CONNECTIONS, 1);
    tpsd_stats_max(ST_MAX_OPS_PER_CONNECTION, 1);
    tpsd_stats_max(ST_MAX_OPS_PER_CONNECTION, 0);
    EXPECT_EQ(tpsd_stats_get(ST_PHONE_HOME), 2);
    n = tpsd_stats_render(buf, sizeof(buf));
    EXPECT(n > 0 && strstr(buf, "phone_home=2\n") && strstr(buf, "tps_connections=1\n") &&
           strstr(buf, "max_ops_per_connection=1\n"));
    fp = fopen(path, "r");
    EXPECT(fp != NULL);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    EXPECT(strstr(buf, "phone_home=2\n") != NULL);
    unlink(path);
}

int main(void)
{
    RUN(test_xml);
    RUN(test_config_rejects);
    RUN(test_stats_file);
    return check_status();
}
