/* escctl certs [--json] [--pem] [--reader NAME] [--timeout MS] [--conf FILE]: the certificates on
 * the card, decoded with NSS (escctl_certs.h). Exit codes (escctl.h): 0 every certificate shown;
 * 1 the card holds no certificate (or an internal failure); 2 bad command line; 3 esc.conf;
 * 4 no pcscd / reader / card, the card failed, or a certificate on it cannot be decoded (the
 * others are still shown). */
#include "escctl_certs.h"

#include "escctl.h"

#include "conf.h"
#include "log.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* escctl is not on the login path: give slow cards at least this long (as escctl status). */
#define CERTS_MIN_TIMEOUT_MS 2000

enum certs_format { FMT_TEXT, FMT_JSON, FMT_PEM };

struct certs_args {
    enum certs_format fmt;
    const char *reader, *conf_path;
    unsigned long timeout_ms;
};

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct certs_args *a)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                             {"pem", no_argument, NULL, 'p'},
                                             {"reader", required_argument, NULL, 'r'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {"conf", required_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    bool json = false, pem = false;
    int c;

    memset(a, 0, sizeof *a);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'p':
            pem = true;
            break;
        case 'r':
            a->reader = optarg;
            break;
        case 't':
            if (escctl_parse_timeout("certs", optarg, &a->timeout_ms) != ESCCTL_EXIT_OK)
                return ESCCTL_EXIT_USAGE;
            break;
        case 'c':
            a->conf_path = optarg;
            break;
        case 'h':
            printf("usage: escctl certs " ESCCTL_CERTS_USAGE "\n");
            return ESCCTL_EXIT_OK;
        default:
            fprintf(stderr, "escctl certs: unknown option '%s'\n", argv[optind - 1]);
            fprintf(stderr, "usage: escctl certs " ESCCTL_CERTS_USAGE "\n");
            return ESCCTL_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "escctl certs: unexpected argument '%s'\n", argv[optind]);
        return ESCCTL_EXIT_USAGE;
    }
    if (json && pem) {
        fprintf(stderr, "escctl certs: --json and --pem exclude each other\n");
        return ESCCTL_EXIT_USAGE;
    }
    a->fmt = json ? FMT_JSON : pem ? FMT_PEM : FMT_TEXT;
    return -1;
}

static int card_exit(esc_err e)
{
    switch (e) {
    case ESC_ERR_NOMEM:
    case ESC_ERR_INTERNAL:
    case ESC_ERR_ARG:
    case ESC_ERR_IO:
        return ESCCTL_EXIT_FAIL;
    default:
        return ESCCTL_EXIT_CARD;
    }
}

/* Decode and print every certificate; the number NSS could not decode. */
static size_t show(const struct certs_card *card, enum certs_format fmt)
{
    struct certs_view *v = malloc(sizeof *v);
    time_t now = time(NULL);
    size_t bad = 0;

    if (!v) { /* nothing decoded: say so, or the exit code would be the only trace */
        fprintf(stderr, "escctl certs: %s\n", esc_strerror(ESC_ERR_NOMEM));
        return card->n;
    }
    if (fmt == FMT_TEXT)
        printf("%s: %zu certificate%s%s%s\n", card->reader, card->n, card->n == 1 ? "" : "s",
               card->have_cuid ? ", cuid=" : "", card->have_cuid ? card->cuid_hex : "");
    if (fmt == FMT_JSON)
        fputs("[\n", stdout);
    for (size_t i = 0; i < card->n; i++) {
        struct certs_obj obj = card->obj[i];
        const struct certs_obj *o = &obj;
        size_t len = certs_der_len(o->der, o->der_len); /* card objects may be padded */

        obj.der_len = len; /* what is decoded, fingerprinted and exported */
        certs_decode(o->der, len, now, v);
        if (!v->ok)
            bad++;
        if (fmt == FMT_TEXT) {
            certs_print_text(stdout, o, v);
        } else if (fmt == FMT_JSON) {
            fputs("  ", stdout);
            certs_print_json(stdout, card, o, v);
            fputs(i + 1 < card->n ? ",\n" : "\n", stdout);
        } else if (v->ok) {
            certs_print_pem(stdout, o->der, len);
        } else {
            fprintf(stderr, "escctl certs: certificate %s: %s (not exported)\n", o->id, v->error);
        }
    }
    if (fmt == FMT_JSON)
        fputs("]\n", stdout);
    free(v);
    return bad;
}

int escctl_cmd_certs(int argc, char **argv)
{
    struct certs_card card;
    struct certs_args a;
    struct esc_conf conf;
    char err[512] = "";
    void *nss = NULL;
    size_t bad;
    unsigned tmo;
    esc_err rv;
    int ret = parse_args(argc, argv, &a);

    if (ret >= 0)
        return ret;
    if (conf_load(a.conf_path, &conf, err, sizeof err) != ESC_OK) {
        fprintf(stderr, "escctl: %s\n", err[0] ? err : "cannot read esc.conf");
        return ESCCTL_EXIT_CONF;
    }
    conf_apply_log_level(&conf);
    tmo = a.timeout_ms ? (unsigned)a.timeout_ms
                       : (conf.probe_timeout_ms > CERTS_MIN_TIMEOUT_MS ? conf.probe_timeout_ms
                                                                       : CERTS_MIN_TIMEOUT_MS);
    rv = certs_read_card(a.reader ? a.reader : conf.reader, tmo, &card);
    if (rv == ESC_ERR_NO_APPLET) {
        card.n = 0; /* no applet: no certificates, said below */
    } else if (rv != ESC_OK) {
        fprintf(stderr, "escctl certs: %s%s%s\n", card.reader, card.reader[0] ? ": " : "",
                esc_strerror(rv));
        return card_exit(rv);
    }
    if (card.n == 0 && card.note != ESC_OK) { /* z0 there but unusable */
        fprintf(stderr, "escctl certs: %s: %s\n", card.reader, esc_strerror(card.note));
        return ESCCTL_EXIT_CARD;
    }
    if (card.n == 0) {
        if (a.fmt == FMT_JSON)
            puts("[]");
        fprintf(stderr, "escctl certs: %s: the card holds no certificate (%s)\n", card.reader,
                rv == ESC_ERR_NO_APPLET ? "no CoolKey applet" : "not enrolled");
        return ESCCTL_EXIT_FAIL;
    }
    if (certs_nss_open(&nss) != ESC_OK) {
        fprintf(stderr, "escctl certs: NSS cannot be initialised\n");
        certs_card_free(&card);
        return ESCCTL_EXIT_FAIL;
    }
    bad = show(&card, a.fmt);
    if (card.note != ESC_OK)
        fprintf(stderr, "escctl certs: %s: not every object was read: %s\n", card.reader,
                esc_strerror(card.note));
    certs_nss_close(nss);
    certs_card_free(&card);
    if (fflush(stdout) != 0 || ferror(stdout))
        return ESCCTL_EXIT_FAIL;
    return bad ? ESCCTL_EXIT_CARD : ESCCTL_EXIT_OK;
}
