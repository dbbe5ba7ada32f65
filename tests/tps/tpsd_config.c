/* tpsd_config: command-line flags. */
#include "tpsd_config.h"

#include "tpsd_policy.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[TT_COUNT] = {"userKey", "userKeyArchive", "noAuth"};
static const char *const op_names[OI_COUNT] = {"enroll", "format", "pinReset"};
static const char *const kt_names[KT_COUNT] = {"signing", "encryption"};

const char *tpsd_keytype_name(int kt)
{
    return kt >= 0 && kt < KT_COUNT ? kt_names[kt] : "unknown";
}

int tpsd_type_from_name(const char *name)
{
    for (int i = 0; name && i < TT_COUNT; i++)
        if (strcmp(name, type_names[i]) == 0)
            return i;
    return -1;
}

const char *tpsd_type_name(int type)
{
    return type >= 0 && type < TT_COUNT ? type_names[type] : "unknown";
}

void tpsd_config_usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s --ca-dir DIR [options]   (see tests/tps/README.md)\n"
            "  --bind ADDR --http-port P --https-port P --tls-cert-out FILE\n"
            "  --ldap-url URL --ldap-base DN --db FILE --archive-dir DIR\n"
            "  --faults FILE --stats FILE --log FILE --ready-file FILE --verbose\n"
            "  --issuer-name S --operation-url URL --phone-home-token-type T --ui-url URL\n"
            "  --enrolled-token-browser-url URL --enrolled-token-url URL --ca-chain-url URL\n"
            "  --issuer-info URL\n"
            "  --default-type T --auth TYPE.OP=on|off --applet-version V --key-size BITS\n"
            "  --pin-min N --pin-max N --cert-days N --msg-timeout SECONDS\n"
            "  --default-policy 'RE_ENROLL=YES;RENEW=NO;...' --no-le-byte\n"
            "  --renewal TYPE.KEYTYPE.enable|gracePeriod.enable=true|false\n"
            "  --renewal TYPE.KEYTYPE.gracePeriod.before|gracePeriod.after=DAYS\n",
            prog);
}

static int to_uint(const char *s, unsigned long min, unsigned long max, unsigned *out)
{
    char *end;
    unsigned long v;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* "userKey.format=off" */
static int set_auth(struct tpsd_config *c, const char *arg)
{
    char buf[64];
    char *dot, *eq;
    int t, o = -1;
    if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
        return -1;
    dot = strchr(buf, '.');
    eq = strchr(buf, '=');
    if (!dot || !eq || eq < dot)
        return -1;
    *dot = *eq = '\0';
    t = tpsd_type_from_name(buf);
    for (int i = 0; i < OI_COUNT; i++)
        if (strcmp(dot + 1, op_names[i]) == 0)
            o = i;
    if (t < 0 || o < 0 || (strcmp(eq + 1, "on") != 0 && strcmp(eq + 1, "off") != 0))
        return -1;
    c->auth[t][o] = strcmp(eq + 1, "on") == 0;
    return 0;
}

/* "userKey.signing.gracePeriod.before=30" (op.enroll.<type>.renewal.<keyType>.<key>) */
static int set_renewal(struct tpsd_config *c, const char *arg)
{
    char buf[96];
    char *kt, *key, *eq;
    int t, k = -1;
    unsigned days;
    struct tpsd_renewal *r;
    if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
        return -1;
    kt = strchr(buf, '.');
    key = kt ? strchr(kt + 1, '.') : NULL;
    eq = key ? strchr(key + 1, '=') : NULL;
    if (!eq)
        return -1;
    *kt++ = *key++ = *eq++ = '\0';
    t = tpsd_type_from_name(buf);
    for (int i = 0; i < KT_COUNT; i++)
        if (strcmp(kt, kt_names[i]) == 0)
            k = i;
    if (t < 0 || k < 0)
        return -1;
    r = &c->renewal[t][k];
    if (strcmp(key, "enable") == 0 || strcmp(key, "gracePeriod.enable") == 0) {
        bool *b = key[0] == 'e' ? &r->enable : &r->grace_enable;
        if (strcmp(eq, "true") != 0 && strcmp(eq, "false") != 0)
            return -1;
        *b = strcmp(eq, "true") == 0;
        return 0;
    }
    if (to_uint(eq, 0, 36500, &days) < 0)
        return -1;
    if (strcmp(key, "gracePeriod.before") == 0)
        r->grace_before = (int)days;
    else if (strcmp(key, "gracePeriod.after") == 0)
        r->grace_after = (int)days;
    else
        return -1;
    return 0;
}

static void defaults(struct tpsd_config *c)
{
    memset(c, 0, sizeof(*c));
    c->bind_addr = "127.0.0.1";
    c->ldap_url = "ldap://127.0.0.1:389/";
    c->ldap_base = "dc=example,dc=com";
    c->issuer_name = "pam_esc rig";
    c->phone_home_token_type = "userKey";
    c->enrolled_token_browser_url = "http://127.0.0.1/";
    c->default_type = "userKey";
    c->applet_version = "1.4.58768072";
    c->key_size = 1024;
    c->pin_min = 4;
    c->pin_max = 10;
    c->cert_days = 365;
    c->msg_timeout_s = 30;
    for (int t = 0; t < TT_COUNT; t++)
        for (int o = 0; o < OI_COUNT; o++)
            c->auth[t][o] = t != TT_NOAUTH;
    for (int t = 0; t < TT_COUNT; t++)
        for (int k = 0; k < KT_COUNT; k++)
            c->renewal[t][k] = (struct tpsd_renewal){
                .enable = true, .grace_enable = false, .grace_before = 30, .grace_after = 30};
    c->default_policy = TPSD_DOGTAG_DEFAULT_POLICY;
}

int tpsd_config_parse(struct tpsd_config *c, int argc, char **argv)
{
    enum {
        O_BIND = 256,
        O_HTTP,
        O_HTTPS,
        O_CA,
        O_TLSOUT,
        O_LDAPURL,
        O_LDAPBASE,
        O_DB,
        O_ARCH,
        O_FAULTS,
        O_STATS,
        O_LOG,
        O_READY,
        O_VERBOSE,
        O_ISSUER,
        O_OPURL,
        O_PHTYPE,
        O_UI,
        O_ETB,
        O_ET,
        O_CACHAIN,
        O_IINFO,
        O_DEFTYPE,
        O_AUTH,
        O_APPLET,
        O_KEYSIZE,
        O_PINMIN,
        O_PINMAX,
        O_DAYS,
        O_TMO,
        O_POLICY,
        O_NOLE,
        O_RENEWAL
    };
    static const struct option opts[] = {{"bind", 1, 0, O_BIND},
                                         {"http-port", 1, 0, O_HTTP},
                                         {"https-port", 1, 0, O_HTTPS},
                                         {"ca-dir", 1, 0, O_CA},
                                         {"tls-cert-out", 1, 0, O_TLSOUT},
                                         {"ldap-url", 1, 0, O_LDAPURL},
                                         {"ldap-base", 1, 0, O_LDAPBASE},
                                         {"db", 1, 0, O_DB},
                                         {"archive-dir", 1, 0, O_ARCH},
                                         {"faults", 1, 0, O_FAULTS},
                                         {"stats", 1, 0, O_STATS},
                                         {"log", 1, 0, O_LOG},
                                         {"ready-file", 1, 0, O_READY},
                                         {"verbose", 0, 0, O_VERBOSE},
                                         {"issuer-name", 1, 0, O_ISSUER},
                                         {"operation-url", 1, 0, O_OPURL},
                                         {"phone-home-token-type", 1, 0, O_PHTYPE},
                                         {"ui-url", 1, 0, O_UI},
                                         {"enrolled-token-browser-url", 1, 0, O_ETB},
                                         {"enrolled-token-url", 1, 0, O_ET},
                                         {"ca-chain-url", 1, 0, O_CACHAIN},
                                         {"issuer-info", 1, 0, O_IINFO},
                                         {"default-type", 1, 0, O_DEFTYPE},
                                         {"auth", 1, 0, O_AUTH},
                                         {"applet-version", 1, 0, O_APPLET},
                                         {"key-size", 1, 0, O_KEYSIZE},
                                         {"pin-min", 1, 0, O_PINMIN},
                                         {"pin-max", 1, 0, O_PINMAX},
                                         {"cert-days", 1, 0, O_DAYS},
                                         {"msg-timeout", 1, 0, O_TMO},
                                         {"default-policy", 1, 0, O_POLICY},
                                         {"no-le-byte", 0, 0, O_NOLE},
                                         {"renewal", 1, 0, O_RENEWAL},
                                         {0, 0, 0, 0}};
    unsigned port;
    int o;
    defaults(c);
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case O_BIND:
            c->bind_addr = optarg;
            break;
        case O_HTTP:
            if (to_uint(optarg, 0, 65535, &port) < 0)
                goto bad;
            c->http_port = (int)port;
            break;
        case O_HTTPS:
            if (to_uint(optarg, 0, 65535, &port) < 0)
                goto bad;
            c->https_port = (int)port;
            break;
        case O_CA:
            c->ca_dir = optarg;
            break;
        case O_TLSOUT:
            c->tls_cert_out = optarg;
            break;
        case O_LDAPURL:
            c->ldap_url = optarg;
            break;
        case O_LDAPBASE:
            c->ldap_base = optarg;
            break;
        case O_DB:
            c->db_path = optarg;
            break;
        case O_ARCH:
            c->archive_dir = optarg;
            break;
        case O_FAULTS:
            c->faults_path = optarg;
            break;
        case O_STATS:
            c->stats_path = optarg;
            break;
        case O_LOG:
            c->log_path = optarg;
            break;
        case O_READY:
            c->ready_path = optarg;
            break;
        case O_VERBOSE:
            c->verbose = true;
            break;
        case O_ISSUER:
            c->issuer_name = optarg;
            break;
        case O_OPURL:
            c->operation_url = optarg;
            break;
        case O_PHTYPE:
            c->phone_home_token_type = optarg;
            break;
        case O_UI:
            c->ui_url = optarg;
            break;
        case O_ETB:
            c->enrolled_token_browser_url = optarg;
            break;
        case O_ET:
            c->enrolled_token_url = optarg;
            break;
        case O_CACHAIN:
            c->ca_chain_url = optarg;
            break;
        case O_IINFO:
            if (strlen(optarg) > 224)
                goto bad;
            c->issuer_info = optarg;
            break;
        case O_DEFTYPE:
            if (tpsd_type_from_name(optarg) < 0)
                goto bad;
            c->default_type = optarg;
            break;
        case O_AUTH:
            if (set_auth(c, optarg) < 0)
                goto bad;
            break;
        case O_APPLET:
            c->applet_version = optarg;
            break;
        case O_KEYSIZE:
            if (to_uint(optarg, 512, 2048, &c->key_size) < 0 || c->key_size % 8)
                goto bad;
            break;
        case O_PINMIN:
            if (to_uint(optarg, 1, 16, &c->pin_min) < 0)
                goto bad;
            break;
        case O_PINMAX:
            if (to_uint(optarg, 1, 16, &c->pin_max) < 0)
                goto bad;
            break;
        case O_DAYS:
            if (to_uint(optarg, 0, 36500, &c->cert_days) < 0)
                goto bad;
            break;
        case O_TMO:
            if (to_uint(optarg, 1, 3600, &c->msg_timeout_s) < 0)
                goto bad;
            break;
        case O_POLICY:
            if (strlen(optarg) >= 256)
                goto bad;
            c->default_policy = optarg;
            break;
        case O_NOLE:
            c->no_le_byte = true;
            break;
        case O_RENEWAL:
            if (set_renewal(c, optarg) < 0)
                goto bad;
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc || !c->ca_dir || (!c->http_port && !c->https_port) ||
        c->pin_min > c->pin_max)
        goto usage;
    return 0;
bad:
    fprintf(stderr, "tps: bad value for an option: %s\n", optarg ? optarg : "");
usage:
    tpsd_config_usage(argv[0]);
    return -1;
}
