/* vcard: the rig's virtual CoolKey card.
 *   vcard run --state FILE --port PORT [--host 127.0.0.1] [--fault MODE] [--busy-file F]
 *   vcard provision --preset blank|formatted|enrolled|locked|expired --state FILE --ca-dir DIR
 *         [--phone-home URL] [--user jsmith] [--pin PIN] [--cuid 20HEX] [--key-bits 1024|2048]
 *         [--pin-tries N] [--scp 1|2]
 *   vcard show --state FILE [--json] */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc_card.h"
#include "vc_provision.h"
#include "vc_show.h"
#include "vc_state.h"
#include "vc_vpcd.h"

static int usage(void)
{
    fprintf(
        stderr,
        "usage: vcard run --state FILE --port PORT [--host ADDR] [--fault MODE] [--busy-file F]\n"
        "       vcard provision --preset blank|formatted|enrolled|locked|expired --state FILE\n"
        "             --ca-dir DIR [--phone-home URL] [--user NAME] [--pin PIN]\n"
        "             [--cuid 20HEX] [--key-bits 1024|2048] [--pin-tries N] [--scp 1|2]\n"
        "             [--valid-days N] [--pin-tries-left N]\n"
        "       vcard show --state FILE [--json]\n"
        "fault modes: garbage short long vanish:N slow:MS\n");
    return 2;
}

static bool parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return false;
    *v = strtoul(s, &end, 10);
    return errno == 0 && *end == '\0' && *v >= lo && *v <= hi;
}

static bool parse_cuid(const char *s, uint8_t out[10])
{
    if (strlen(s) != 20)
        return false;
    for (size_t i = 0; i < 10; i++) {
        char b[3] = {s[2 * i], s[2 * i + 1], 0}, *end;
        out[i] = (uint8_t)strtoul(b, &end, 16);
        if (*end || !isxdigit((unsigned char)b[0]) || !isxdigit((unsigned char)b[1]))
            return false;
    }
    return true;
}

enum {
    OPT_STATE = 1,
    OPT_PORT,
    OPT_HOST,
    OPT_FAULT,
    OPT_PRESET,
    OPT_CA,
    OPT_PHONE,
    OPT_USER,
    OPT_PIN,
    OPT_CUID,
    OPT_BITS,
    OPT_TRIES,
    OPT_SCP,
    OPT_VALID,
    OPT_LEFT,
    OPT_JSON,
    OPT_BUSY
};

static const struct option OPTS[] = {
    {"state", required_argument, NULL, OPT_STATE},
    {"port", required_argument, NULL, OPT_PORT},
    {"host", required_argument, NULL, OPT_HOST},
    {"fault", required_argument, NULL, OPT_FAULT},
    {"preset", required_argument, NULL, OPT_PRESET},
    {"ca-dir", required_argument, NULL, OPT_CA},
    {"phone-home", required_argument, NULL, OPT_PHONE},
    {"user", required_argument, NULL, OPT_USER},
    {"pin", required_argument, NULL, OPT_PIN},
    {"cuid", required_argument, NULL, OPT_CUID},
    {"key-bits", required_argument, NULL, OPT_BITS},
    {"pin-tries", required_argument, NULL, OPT_TRIES},
    {"scp", required_argument, NULL, OPT_SCP},
    {"valid-days", required_argument, NULL, OPT_VALID},
    {"pin-tries-left", required_argument, NULL, OPT_LEFT},
    {"json", no_argument, NULL, OPT_JSON},
    {"busy-file", required_argument, NULL, OPT_BUSY},
    {NULL, 0, NULL, 0},
};

struct args {
    const char *state, *host, *fault, *busy, *preset, *ca_dir, *phone, *user, *pin, *cuid;
    unsigned long port, bits, tries, scp, valid_days, tries_left;
    bool json;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    int ch;
    *a = (struct args){
        .host = "127.0.0.1", .user = "jsmith", .pin = "246810", .bits = 2048, .tries = 5, .scp = 2};
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", OPTS, NULL)) != -1) {
        switch (ch) {
        case OPT_STATE:
            a->state = optarg;
            break;
        case OPT_PORT:
            if (!parse_ulong(optarg, 1, 65535, &a->port))
                return fprintf(stderr, "vcard: --port wants 1..65535\n"), -1;
            break;
        case OPT_HOST:
            a->host = optarg;
            break;
        case OPT_FAULT:
            a->fault = optarg;
            break;
        case OPT_PRESET:
            a->preset = optarg;
            break;
        case OPT_CA:
            a->ca_dir = optarg;
            break;
        case OPT_PHONE:
            a->phone = optarg;
            break;
        case OPT_USER:
            a->user = optarg;
            break;
        case OPT_PIN:
            a->pin = optarg;
            break;
        case OPT_CUID:
            a->cuid = optarg;
            break;
        case OPT_BITS:
            if (!parse_ulong(optarg, 1024, 2048, &a->bits) || (a->bits != 1024 && a->bits != 2048))
                return fprintf(stderr, "vcard: --key-bits wants 1024 or 2048\n"), -1;
            break;
        case OPT_TRIES:
            if (!parse_ulong(optarg, 1, 127, &a->tries))
                return fprintf(stderr, "vcard: --pin-tries wants 1..127\n"), -1;
            break;
        case OPT_VALID:
            if (!parse_ulong(optarg, 1, 36500, &a->valid_days))
                return fprintf(stderr, "vcard: --valid-days wants 1..36500\n"), -1;
            break;
        case OPT_LEFT:
            if (!parse_ulong(optarg, 1, 127, &a->tries_left))
                return fprintf(stderr, "vcard: --pin-tries-left wants 1..127\n"), -1;
            break;
        case OPT_SCP:
            if (!parse_ulong(optarg, 1, 2, &a->scp))
                return fprintf(stderr, "vcard: --scp wants 1 or 2\n"), -1;
            break;
        case OPT_JSON:
            a->json = true;
            break;
        case OPT_BUSY:
            a->busy = optarg;
            break;
        default:
            return -1;
        }
    }
    if (optind != argc)
        return fprintf(stderr, "vcard: unexpected argument '%s'\n", argv[optind]), -1;
    if (!a->state)
        return fprintf(stderr, "vcard: --state FILE is required\n"), -1;
    return 0;
}

static int cmd_run(const struct args *a)
{
    struct vc_card c;
    struct vc_fault fault = {VC_FAULT_NONE, 0};
    if (!a->port)
        return fprintf(stderr, "vcard: --port PORT is required\n"), usage();
    if (a->fault && vc_fault_parse(a->fault, &fault) != 0)
        return fprintf(stderr, "vcard: unknown fault '%s'\n", a->fault), usage();
    if (vc_state_load(&c, a->state) != 0)
        return 1;
    vc_serve_busy_file(a->busy);
    int rc = vc_serve(&c, a->state, a->host, (int)a->port, &fault);
    vc_card_free(&c);
    return rc;
}

static int cmd_provision(const struct args *a)
{
    struct vc_card c;
    uint8_t cuid[10];
    if (!a->preset)
        return fprintf(stderr, "vcard: --preset is required\n"), usage();
    if (!a->ca_dir && strcmp(a->preset, "blank") != 0 && strcmp(a->preset, "formatted") != 0)
        return fprintf(stderr, "vcard: --ca-dir DIR is required for '%s'\n", a->preset), usage();
    if (a->cuid && !parse_cuid(a->cuid, cuid))
        return fprintf(stderr, "vcard: --cuid wants 20 hex digits\n"), usage();
    const struct vc_provision_opts o = {.preset = a->preset,
                                        .ca_dir = a->ca_dir,
                                        .phone_home = a->phone,
                                        .user = a->user,
                                        .pin = a->pin,
                                        .cuid = a->cuid ? cuid : NULL,
                                        .key_bits = (unsigned)a->bits,
                                        .pin_tries = (uint8_t)a->tries,
                                        .scp = (int)a->scp,
                                        .valid_days = (unsigned)a->valid_days,
                                        .pin_tries_left = (uint8_t)a->tries_left};
    int rc = vc_provision(&c, &o) == 0 && vc_state_save(&c, a->state) == 0 ? 0 : 1;
    if (rc == 0)
        fprintf(stderr, "vcard: provisioned '%s' into %s\n", a->preset, a->state);
    vc_card_free(&c);
    return rc;
}

static int cmd_show(const struct args *a)
{
    struct vc_card c;
    if (vc_state_load(&c, a->state) != 0)
        return 1;
    vc_show(&c, stdout, a->json);
    vc_card_free(&c);
    return 0;
}

int main(int argc, char **argv)
{
    struct args a;
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") != 0 && strcmp(cmd, "provision") != 0 && strcmp(cmd, "show") != 0)
        return usage();
    if (parse_args(argc, argv, &a) != 0)
        return usage();
    if (strcmp(cmd, "run") == 0)
        return cmd_run(&a);
    if (strcmp(cmd, "provision") == 0)
        return cmd_provision(&a);
    return cmd_show(&a);
}
