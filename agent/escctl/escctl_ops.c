/* escctl_ops: the card-operation commands of escctl. See escctl_ops.h. */
#include "escctl_ops.h"
#include "escctl_text.h"

#include "engine/agent_op.h"
#include "conf.h"
#include "log.h"
#include "term.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

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
    if (escctl_load_conf(&o, &c) != ESC_OK)
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

/* The operation in this process, with the engine (escctl_op_fn). */
static int run_here(const struct escctl_op_here *h)
{
    static struct agent_op_out out;
    const struct escctl_op_args *o = h->o;
    struct tps_op_ui ui = {.ask = term_ask, .progress = term_progress, .ctx = h->t};
    struct agent_op_args a = {.op = h->op,
                              .reader = o->reader,
                              .ph_url = o->url,
                              .refresh = o->refresh,
                              .token_type = o->token_type,
                              .user = o->user,
                              .password = h->pw,
                              .new_pin = h->pin};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    double cpu0 = cpu_seconds(); /* the operation's own CPU, without start-up and init */
    esc_err e = agent_run_op(h->conf, &a, &ui, &out);
    double cpu_op = cpu_seconds() - cpu0;
    curl_global_cleanup();
    term_progress_done(h->t);
    if (o->json)
        print_json_op(h->name, e, &out, cpu_seconds(), cpu_op);
    else if (e == ESC_OK)
        printf("%s\n", out.sentence);
    else
        fprintf(stderr, "%s: %s\n", program_invocation_short_name,
                out.sentence[0] ? out.sentence : esc_strerror(e));
    return escctl_exit_code(e);
}

int escctl_cmd_operation(int argc, char **argv)
{
    return escctl_operation_run(argc, argv, run_here);
}
