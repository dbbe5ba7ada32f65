/* escctl_ops: the card-operation commands of escctl. See escctl_ops.h. */
#include "escctl_ops.h"
#include "escctl_text.h"

#include "engine/agent_op.h"
#include "escctl_agent.h"
#include "conf.h"
#include "ipc.h"
#include "log.h"
#include "term.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

int escctl_exit_code(esc_err e)
{
    switch (e) {
    case ESC_OK:
        return ESCCTL_EXIT_OK;
    case ESC_ERR_CONF:
    case ESC_ERR_CONF_MISSING:
        return ESCCTL_EXIT_CONF;
    case ESC_ERR_UNTRUSTED_HOST:
        return ESCCTL_EXIT_UNTRUSTED;
    case ESC_ERR_NETWORK:
    case ESC_ERR_TLS:
    case ESC_ERR_SERVER:
    case ESC_ERR_PROTOCOL:
    case ESC_ERR_TIMEOUT:
    case ESC_ERR_TPS_TIMEOUT:
        return ESCCTL_EXIT_NET;
    case ESC_ERR_TPS_REFUSED:
        return ESCCTL_EXIT_REFUSED;
    case ESC_ERR_AUTH_FAILED:
        return ESCCTL_EXIT_AUTH;
    case ESC_ERR_CANCELLED:
    case ESC_ERR_ARG:
        return ESCCTL_EXIT_CANCELLED;
    default:
        break;
    }
    return esc_err_class(e) == ESC_CLASS_ABSENT || esc_err_class(e) == ESC_CLASS_CARD
               ? ESCCTL_EXIT_CARD
               : ESCCTL_EXIT_FAIL;
}

/* ---- JSON output ---- */

static void json_kv(FILE *f, const char *k, const char *v, bool comma)
{
    escctl_json_str(f, k);
    fputs(": ", f);
    escctl_json_str(f, v);
    if (comma)
        fputs(", ", f);
}

static void json_profile(FILE *f, const struct agent_op_out *o)
{
    const struct ph_profile *p = &o->profile;
    fputs("\"phone_home\": {", f);
    fprintf(f, "\"cached\": %s, \"requests\": %u, ", o->ph_cached ? "true" : "false",
            o->ph_requests);
    json_kv(f, "url", p->source_url, true);
    json_kv(f, "issuer", p->issuer, true);
    json_kv(f, "operation", p->operation, true);
    json_kv(f, "ui", p->ui, true);
    json_kv(f, "enrolled_token_browser_url", p->enrolled_browser_url, true);
    json_kv(f, "enrolled_token_url", p->enrolled_url, true);
    json_kv(f, "token_type", p->token_type, true);
    json_kv(f, "ca_chain_ui", p->ca_chain_ui, true);
    fprintf(f, "\"fetched_at\": %lld}", p->fetched_at);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- options ---- */

enum {
    O_CONF = 256,
    O_READER,
    O_URL,
    O_USER,
    O_PWFD,
    O_PINFD,
    O_REFRESH,
    O_TEST,
    O_JSON,
    O_QUIET,
    O_TTYPE
};

static int parse_fd(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end || v < 0 || v > 65535)
        return -1;
    *out = (int)v;
    return 0;
}

int escctl_parse_op_args(int argc, char **argv, bool ops, struct escctl_op_args *o)
{
    static const struct option lo[] = {
        {"conf", required_argument, NULL, O_CONF},
        {"reader", required_argument, NULL, O_READER},
        {"url", required_argument, NULL, O_URL},
        {"user", required_argument, NULL, O_USER},
        {"password-fd", required_argument, NULL, O_PWFD},
        {"pin-fd", required_argument, NULL, O_PINFD},
        {"refresh", no_argument, NULL, O_REFRESH},
        {"test", no_argument, NULL, O_TEST},
        {"json", no_argument, NULL, O_JSON},
        {"quiet", no_argument, NULL, O_QUIET},
        {"token-type", required_argument, NULL, O_TTYPE},
        {NULL, 0, NULL, 0},
    };
    int c;
    memset(o, 0, sizeof *o);
    o->password_fd = o->pin_fd = -1;
    optind = 0; /* GNU: restart scanning (argv may be a sub-command's) */
    opterr = 1;
    while ((c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
        switch (c) {
        case O_CONF:
            o->conf = optarg;
            break;
        case O_READER:
            o->reader = optarg;
            break;
        case O_URL:
            o->url = optarg;
            break;
        case O_REFRESH:
            o->refresh = true;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_QUIET: /* phone-home shows no progress to silence */
            if (!ops)
                goto bad;
            o->quiet = true;
            break;
        case O_TEST:
            if (ops)
                goto bad;
            o->test = true;
            break;
        case O_USER:
            if (!ops)
                goto bad;
            o->user = optarg;
            break;
        case O_TTYPE:
            if (!ops)
                goto bad;
            o->token_type = optarg;
            break;
        case O_PWFD:
        case O_PINFD:
            if (!ops || parse_fd(optarg, c == O_PWFD ? &o->password_fd : &o->pin_fd) < 0)
                goto bad;
            break;
        default:
            goto bad;
        }
    }
    if (optind != argc)
        goto bad;
    return 0;
bad:
    fprintf(stderr, "usage: escctl %s %s\n", argv[0], ops ? ESCCTL_OP_USAGE : ESCCTL_PH_USAGE);
    return -1;
}

static esc_err load_conf(const struct escctl_op_args *o, struct esc_conf *c)
{
    char err[256] = "";
    esc_err e = conf_load(o->conf, c, err, sizeof err);
    if (e != ESC_OK)
        fprintf(stderr, "%s: %s\n", program_invocation_short_name, err[0] ? err : esc_strerror(e));
    else
        conf_apply_log_level(c); /* never quieter than -v asked */
    return e;
}

/* ---- phone-home ---- */

static void print_profile(const struct agent_op_out *o)
{
    const struct ph_profile *p = &o->profile;
    char when[64] = "";
    time_t t = (time_t)p->fetched_at;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    printf("Card:          %s (CUID %s)\n", o->facts.reader, o->facts.cuid_hex);
    printf("Phone home:    %s\n", p->source_url[0] ? p->source_url : "-");
    printf("Issuer:        %s\n", p->issuer[0] ? p->issuer : "-");
    printf("Token server:  %s\n", p->operation[0] ? p->operation : "-");
    printf("Token type:    %s\n", p->token_type[0] ? p->token_type : "-");
    if (p->ui[0])
        printf("UI:            %s\n", p->ui);
    if (p->enrolled_browser_url[0])
        printf("Enrolled page: %s\n", p->enrolled_browser_url);
    if (p->enrolled_url[0])
        printf("Enrolled URL:  %s\n", p->enrolled_url);
    if (p->ca_chain_ui[0])
        printf("CA chain UI:   %s\n", p->ca_chain_ui);
    printf("Profile:       %s %s\n", o->ph_cached ? "cached, fetched" : "fetched now,", when);
}

int escctl_cmd_phone_home(int argc, char **argv)
{
    struct escctl_op_args o;
    struct esc_conf c;
    static struct agent_op_out out;
    if (escctl_parse_op_args(argc, argv, false, &o) < 0)
        return ESCCTL_EXIT_USAGE;
    if (load_conf(&o, &c) != ESC_OK)
        return ESCCTL_EXIT_CONF;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    esc_err e = agent_phone_home(&c, o.reader, o.url, o.refresh, o.test, &out);
    curl_global_cleanup();
    if (o.json) {
        printf("{\"command\": \"phone-home\", \"ok\": %s, ", e == ESC_OK ? "true" : "false");
        json_kv(stdout, "error", esc_err_name(e), true);
        json_kv(stdout, "message", e == ESC_OK ? "Phone home succeeded." : out.sentence, true);
        json_kv(stdout, "reader", out.facts.reader, true);
        json_kv(stdout, "cuid", out.facts.cuid_hex, true);
        fprintf(stdout, "\"test\": %s, ", o.test ? "true" : "false");
        json_profile(stdout, &out);
        printf("}\n");
    } else if (e == ESC_OK) {
        if (o.test)
            printf("Phone home test succeeded (nothing cached).\n");
        print_profile(&out);
    } else {
        fprintf(stderr, "%s: %s\n", program_invocation_short_name,
                out.sentence[0] ? out.sentence : esc_strerror(e));
    }
    return escctl_exit_code(e);
}

/* ---- enroll, format, reset-pin, renew ---- */

static int read_secret_fd(int fd, const char *what, char *buf, size_t cap)
{
    if (term_read_fd_secret(fd, buf, cap) < 0) {
        fprintf(stderr, "%s: no %s could be read from file descriptor %d.\n",
                program_invocation_short_name, what, fd);
        return -1;
    }
    return 0;
}

static void print_json_op(const char *name, esc_err e, const struct agent_op_out *out, double cpu,
                          double cpu_op)
{
    const struct tps_op_result *r = &out->res;
    const struct tps_conv_stats *s = &r->stats;
    printf("{\"command\": ");
    escctl_json_str(stdout, name);
    printf(", \"ok\": %s, ", e == ESC_OK ? "true" : "false");
    json_kv(stdout, "error", esc_err_name(e), true);
    json_kv(stdout, "message", out->sentence, true);
    json_kv(stdout, "reader", out->facts.reader, true);
    json_kv(stdout, "cuid", out->facts.cuid_hex, true);
    json_kv(stdout, "state_before", probe_state_name(out->facts.state), true);
    if (out->have_after)
        printf("\"state_after\": \"%s\", \"not_after_before\": %lld, \"not_after\": %lld, ",
               probe_state_name(out->after.state), (long long)out->facts.not_after,
               (long long)out->after.not_after);
    else
        printf("\"state_after\": null, ");
    if (r->end_seen)
        printf("\"end_op\": {\"result\": %d, \"message\": %d, \"name\": \"%s\"}, ", r->end_result,
               r->end_message, tps_status_name(r->end_message));
    else
        printf("\"end_op\": null, ");
    json_profile(stdout, out);
    printf(", \"stats\": {\"round_trips\": %lu, \"messages_out\": %lu, \"apdus\": %u, "
           "\"bytes_in\": %lu, \"bytes_out\": %lu, \"connections\": %ld, \"wall_s\": %.3f, "
           "\"cpu_s\": %.3f, \"cpu_op_s\": %.3f}}\n",
           s->msgs_in, s->msgs_out, r->apdus, s->bytes_in, s->bytes_out, s->connects, s->wall_s,
           cpu, cpu_op);
}

int escctl_cmd_operation(int argc, char **argv)
{
    struct escctl_op_args o;
    struct esc_conf c;
    static struct agent_op_out out;
    struct term_ui t;
    char pw[TPS_SECRET_MAX] = "", pin[TPS_SECRET_MAX] = "";
    int op = esc_op_parse(argv[0]);
    int code = ESCCTL_EXIT_FAIL;

    if (op < 0 || escctl_parse_op_args(argc, argv, true, &o) < 0)
        return ESCCTL_EXIT_USAGE;
    /* no core file: this process holds the password and the new PIN */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (load_conf(&o, &c) != ESC_OK)
        return ESCCTL_EXIT_CONF;
    if ((o.password_fd >= 0 && read_secret_fd(o.password_fd, "password", pw, sizeof pw) < 0) ||
        (o.pin_fd >= 0 && read_secret_fd(o.pin_fd, "PIN", pin, sizeof pin) < 0)) {
        code = ESCCTL_EXIT_USAGE;
        goto out;
    }
    term_ui_init(&t, o.quiet || o.json);
    /* The session agent runs it when there is one, unless an option only the engine here
     * knows is given (--json prints the engine's own figures). */
    if (!o.json && !o.url && !o.refresh && !o.token_type && !o.conf) {
        esc_err ae;
        char sentence[IPC_TEXT_MAX + 1];
        if (escctl_agent_op(argv[0], &o, o.password_fd >= 0 ? pw : NULL, o.pin_fd >= 0 ? pin : NULL,
                            c.operation_timeout * 1000u, &t, &ae, sentence, sizeof sentence)) {
            term_progress_done(&t);
            if (ae == ESC_OK)
                printf("%s\n", sentence);
            else
                fprintf(stderr, "%s: %s\n", program_invocation_short_name,
                        sentence[0] ? sentence : esc_strerror(ae));
            code = escctl_exit_code(ae);
            goto out;
        }
    }
    struct tps_op_ui ui = {.ask = term_ask, .progress = term_progress, .ctx = &t};
    struct agent_op_args a = {.op = op,
                              .reader = o.reader,
                              .ph_url = o.url,
                              .refresh = o.refresh,
                              .token_type = o.token_type,
                              .user = o.user,
                              .password = o.password_fd >= 0 ? pw : NULL,
                              .new_pin = o.pin_fd >= 0 ? pin : NULL};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    double cpu0 = cpu_seconds(); /* the operation's own CPU, without start-up and init */
    esc_err e = agent_run_op(&c, &a, &ui, &out);
    double cpu_op = cpu_seconds() - cpu0;
    curl_global_cleanup();
    term_progress_done(&t);
    if (o.json)
        print_json_op(argv[0], e, &out, cpu_seconds(), cpu_op);
    else if (e == ESC_OK)
        printf("%s\n", out.sentence);
    else
        fprintf(stderr, "%s: %s\n", program_invocation_short_name,
                out.sentence[0] ? out.sentence : esc_strerror(e));
    code = escctl_exit_code(e);
out:
    explicit_bzero(pw, sizeof pw);
    explicit_bzero(pin, sizeof pin);
    return code;
}
