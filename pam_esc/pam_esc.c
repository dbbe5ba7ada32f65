/* pam_esc: make a new, blank or PIN-locked smart card usable at login (design.md).
 *
 * It acts only for the person at the machine (pe_local.h): a login from another host
 * (PAM_RHOST), a service not in login_services (sudo, su, polkit, sshd) or, where logind runs,
 * a card in a reader of another seat gets PAM_IGNORE before the card is touched.
 * Otherwise pam_sm_authenticate probes the card (common/probe.h) and decides:
 *   no pcscd, no reader, no card, ENROLLED, probe error -> PAM_IGNORE at once
 *   NO_APPLET / UNINITIALIZED -> enroll, PIN_LOCKED -> pinreset, EXPIRED -> renew, each only
 *   if listed in operations= / login_operations; then it hands the operation to the agent
 *   (the user's session agent if one runs, else a fresh `esc-agent --pam` helper), relays
 *   the conversation, puts the new PIN in PAM_AUTHTOK for the next module (pam_pkcs11 with
 *   try_first_pass; pam_sss asks again, docs/pam-stacks.md), and returns PAM_IGNORE: this
 *   module never authenticates anybody, it only prepares the card. Every failure lets the
 *   stack go on.
 *
 * Only the PAM entry points and the decision live here; pe_cfg.c parses options,
 * pe_helper.c starts and reaps the helper, pe_relay.c maps messages to the conversation. */
#define PAM_SM_AUTH
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "conf.h"
#include "ipc.h"
#include "log.h"
#include "ops.h"
#include "pe_cache_pam.h"
#include "pe_cfg.h"
#include "pe_helper.h"
#include "pe_local.h"
#include "pe_offer.h"
#include "pe_relay.h"
#include "probe.h"
#include "safe_file.h"
#include "seat.h"
#include "secret.h"
#include "tps_msg.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define PE_EXPORT __attribute__((visibility("default")))

/* How long a helper that said DONE (or was told to go) gets to exit by itself. */
#define HELPER_GRACE_MS 500

struct pe {
    pam_handle_t *pamh;
    struct pe_cfg cfg;
    struct esc_conf conf;
    char conf_path[PE_PATH_MAX];
    bool silent;
    long deadline;
};

static void pe_log(const struct pe *p, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pe_log(const struct pe *p, int prio, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    /* esc.conf's log_level (default warn); the debug option can only add */
    int level = prio <= LOG_ERR       ? ESC_LOG_ERR
                : prio == LOG_WARNING ? ESC_LOG_WARN
                : prio == LOG_DEBUG   ? ESC_LOG_DEBUG
                                      : ESC_LOG_INFO;
    if (!p->cfg.debug && level > (int)p->conf.log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->cfg.debug_stderr)
        fprintf(stderr, "pam_esc: %s\n", msg);
    else
        pam_syslog(p->pamh, prio, "%s", msg);
}

/* The helper trusts the CAs of ca_file for the TPS and Phone Home connections that carry the
 * directory password: as root, the same rule as for esc.conf itself (safe_file.h). Checked
 * only when there is something to hand off: an enrolled card's login never reads the file. */
static bool ca_file_ok(const struct pe *p)
{
    char why[256] = "";
    int fd;

    if (!p->conf.ca_file[0] || geteuid() != 0)
        return true;
    if (safe_file_open(p->conf.ca_file, true, &fd, why, sizeof why) != ESC_OK) {
        pe_log(p, LOG_ERR, "ca_file %s", why);
        return false;
    }
    close(fd);
    return true;
}

/* esc.conf: the file named by conf=, else the system one (missing = defaults). Never
 * $ESC_CONF: the caller's environment must not choose pam_esc's policy (think su). */
static esc_err load_conf(struct pe *p)
{
    char err[256] = "";
    esc_err e;

    if (p->cfg.conf[0])
        snprintf(p->conf_path, sizeof p->conf_path, "%s", p->cfg.conf);
    else
        snprintf(p->conf_path, sizeof p->conf_path, "%s/pam_esc/esc.conf", ESC_SYSCONFDIR);
    if (!p->cfg.conf[0] && access(p->conf_path, F_OK) != 0 && errno == ENOENT) {
        conf_defaults(&p->conf);
        p->conf_path[0] = '\0';
        return ESC_OK;
    }
    e = conf_load(p->conf_path, &p->conf, err, sizeof err);
    if (e != ESC_OK)
        pe_log(p, LOG_ERR, "%s", err[0] ? err : esc_strerror(e));
    return e;
}

/* Is this the person at the machine logging in or unlocking (pe_local.h)? A network login
 * (PAM_RHOST another host) or a service that is not a login (sudo, su, polkit, sshd: not in
 * login_services) gets no operation, not even a look at the card: one log line says why. */
static bool local_login(const struct pe *p)
{
    const void *svc = NULL, *rhost = NULL;

    pam_get_item(p->pamh, PAM_SERVICE, &svc);
    pam_get_item(p->pamh, PAM_RHOST, &rhost);
    if (!pe_rhost_is_local(rhost)) {
        pe_log(p, LOG_INFO, "login from %.100s (service %s), not at this machine: nothing to do",
               (const char *)rhost, svc ? (const char *)svc : "?");
        return false;
    }
    if (!svc || !conf_list_has(p->conf.login_services, svc)) {
        pe_log(p, LOG_INFO, "service %s is not in login_services: nothing to do",
               svc ? (const char *)svc : "(none)");
        return false;
    }
    return true;
}

/* The operation a card state calls for (common/ops.h), if allowed; NULL: nothing to do. */
static const char *decide(enum probe_state s, unsigned ops)
{
    const struct esc_op *o = esc_op_get(esc_op_for_state(s));
    return o && (ops & o->bit) ? o->word : NULL;
}

static const char *pam_user(pam_handle_t *pamh)
{
    const void *u = NULL;
    /* pam_get_item, not pam_get_user: this module must never prompt for a login name */
    if (pam_get_item(pamh, PAM_USER, &u) != PAM_SUCCESS || !u || !((const char *)u)[0])
        return NULL;
    return u;
}

static int lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
    struct passwd pw, *res = NULL;
    char buf[4096];

    if (!name || !name[0] || getpwnam_r(name, &pw, buf, sizeof buf, &res) != 0 || !res)
        return -1;
    *uid = pw.pw_uid;
    *gid = pw.pw_gid;
    return 0;
}

/* (b) The user's session agent (screensaver): $XDG_RUNTIME_DIR/esc-agent/socket, owned by
 * and served by the user. Returns an fd or -1. */
static int connect_session(struct pe *p, const char *user)
{
    const char *rt = pam_getenv(p->pamh, "XDG_RUNTIME_DIR");
    char def[64];
    uid_t uid = getuid();
    gid_t gid;
    int fd = -1;
    esc_err e;

    if (p->cfg.no_session)
        return -1;
    if (uid == 0 && lookup_user(user, &uid, &gid) != 0)
        return -1; /* root without a known target user: no session to look for */
    /* the process's own XDG_RUNTIME_DIR only when it runs as the target user; a root worker
     * unlocking someone else's screen (GDM's) has its own, or gdm's, or none */
    if ((!rt || !rt[0]) && uid == getuid())
        rt = getenv("XDG_RUNTIME_DIR");
    if (!rt || !rt[0]) {
        snprintf(def, sizeof def, "/run/user/%u", (unsigned)uid);
        rt = def;
    }
    e = ipc_session_connect(rt, uid, p->deadline, &fd);
    if (e == ESC_OK)
        pe_log(p, LOG_INFO, "using the session agent in %s", rt);
    else if (e != ESC_ERR_AGENT_UNAVAILABLE)
        pe_log(p, LOG_WARNING, "session agent in %s refused: %s", rt, esc_strerror(e));
    return e == ESC_OK ? fd : -1;
}

/* The helper's whole environment: nothing of the caller's but the PC/SC socket name (the
 * same the probe in this process used). */
struct helper_env {
    char conf[PE_PATH_MAX + 16], pcsc[PE_PATH_MAX + 32], script[PE_PATH_MAX + 24];
    char *v[8];
};

static void build_env(const struct pe *p, struct helper_env *env)
{
    const char *pcsc = getenv("PCSCLITE_CSOCK_NAME");
    int n = 0;

    env->v[n++] = (char *)"PATH=/usr/bin:/bin";
    env->v[n++] = (char *)"LC_ALL=C.UTF-8";
    if (p->conf_path[0]) {
        snprintf(env->conf, sizeof env->conf, "ESC_CONF=%s", p->conf_path);
        env->v[n++] = env->conf;
    }
    if (pcsc && pcsc[0] == '/' && strlen(pcsc) < PE_PATH_MAX) {
        snprintf(env->pcsc, sizeof env->pcsc, "PCSCLITE_CSOCK_NAME=%s", pcsc);
        env->v[n++] = env->pcsc;
    }
    if (p->cfg.test_script[0]) {
        snprintf(env->script, sizeof env->script, "ESC_TEST_SCRIPT=%s", p->cfg.test_script);
        env->v[n++] = env->script;
    }
    if (p->cfg.debug)
        env->v[n++] =
            p->cfg.debug_stderr ? (char *)"ESC_PAM_DEBUG=stderr" : (char *)"ESC_PAM_DEBUG=1";
    env->v[n] = NULL;
}

/* (a) No session: start `esc-agent --pam` as agent_user. */
static esc_err start_helper(struct pe *p, struct pe_helper *h)
{
    struct helper_env env;
    struct pe_spawn s = {.path = p->cfg.helper, .keep_stderr = p->cfg.debug_stderr};
    esc_err e;

    build_env(p, &env);
    s.envp = env.v;
    if (geteuid() == 0) {
        if (lookup_user(p->conf.agent_user, &s.uid, &s.gid) != 0) {
            pe_log(p, LOG_ERR, "agent_user \"%s\" does not exist", p->conf.agent_user);
            return ESC_ERR_AGENT_UNAVAILABLE;
        }
        if (s.uid == 0) {
            pe_log(p, LOG_ERR, "agent_user must not be root");
            return ESC_ERR_AGENT_UNAVAILABLE;
        }
        s.drop = true;
    }
    e = pe_helper_start(&s, h);
    if (e != ESC_OK)
        pe_log(p, LOG_ERR, "cannot start %s: %s", p->cfg.helper, esc_strerror(e));
    else
        pe_log(p, LOG_INFO, "helper %s started (pid %d)", p->cfg.helper, (int)h->pid);
    return e;
}

/* After the hand-off: the new PIN for the next module, the user name, one closing line. */
static void finish(struct pe *p, const char *op, struct pe_relay_out *r)
{
    if (r->err == ESC_OK) {
        if (r->pin[0] && pam_set_item(p->pamh, PAM_AUTHTOK, r->pin) != PAM_SUCCESS)
            pe_log(p, LOG_WARNING, "cannot set PAM_AUTHTOK");
        if (p->cfg.set_user && r->user[0] && !pam_user(p->pamh)) {
            if (!pe_user_name_ok(r->user)) /* the agent does not choose what later modules parse */
                pe_log(p, LOG_WARNING, "the directory user ID is not a usable login name");
            else if (pam_set_item(p->pamh, PAM_USER, r->user) == PAM_SUCCESS)
                pe_log(p, LOG_INFO, "PAM_USER set to \"%s\"", r->user);
        }
        if (!p->silent && r->sentence[0])
            pam_info(p->pamh, "%s", r->sentence);
        pe_log(p, LOG_INFO, "%s done", op);
        return;
    }
    if (r->err == ESC_ERR_TIMEOUT)
        pam_error(p->pamh,
                  "Setting up your smart card did not finish within %u seconds and was "
                  "stopped.",
                  p->cfg.timeout_s);
    else if (r->sentence[0])
        pam_error(p->pamh, "%s", r->sentence);
    else if (r->err == ESC_ERR_PROTOCOL)
        pam_error(p->pamh, "Your smart card could not be set up: the smart card helper stopped "
                           "unexpectedly.");
    else if (r->err == ESC_ERR_CANCELLED)
        pam_error(p->pamh, "Setting up your smart card was cancelled; the card was not changed.");
    else
        pam_error(p->pamh, "Your smart card could not be set up: %s.", esc_strerror(r->err));
    pe_log(p, LOG_NOTICE, "%s failed: %s (%s)", op, esc_err_name(r->err),
           r->sentence[0] ? r->sentence : esc_strerror(r->err));
}

static esc_err hand_off(struct pe *p, const char *op, const char *reader)
{
    struct pe_helper h = {.pid = 0, .fd = -1};
    struct pe_relay_out r;
    esc_err e;
    const char *user = pam_user(p->pamh);
    struct pe_relay_in in = {
        .op = op, .user = user, .reader = reader, .silent = p->silent, .deadline_ms = p->deadline};

    memset(&r, 0, sizeof r);
    h.fd = connect_session(p, user);
    if (h.fd < 0 && (r.err = start_helper(p, &h)) != ESC_OK)
        goto out;
    pe_relay_run(p->pamh, h.fd, &in, &r);
out:
    /* past the deadline there is no grace: the helper is killed at once */
    if (!pe_helper_stop(&h, HELPER_GRACE_MS, p->deadline))
        pe_log(p, LOG_ERR, "the helper could not be reaped");
    finish(p, op, &r);
    e = r.err;
    secret_wipe(&r, sizeof r);
    return e;
}

/* An enrolled card (pe_offer.h): the tries for the after_failure line, a warning when few are
 * left, and the renewal offer when its certificates expire soon. */
static const char *enrolled(struct pe *p, const struct probe_facts *f, unsigned ops)
{
    char q[160], dir[PE_PATH_MAX];
    const char *user = pam_user(p->pamh), *rt = pam_getenv(p->pamh, "XDG_RUNTIME_DIR");

    if (f->pin_tries_left > 0)
        pe_offer_store_tries(p->pamh, f->pin_tries_left);
    if (!p->silent)
        pe_offer_warn_tries(p->pamh, f->pin_tries_left, p->conf.pin_warn_tries);
    if (!(ops & CONF_OP_RENEW) || !pe_offer_renew_due(f->not_after, p->conf.renew_days, time(NULL)))
        return NULL;
    pe_offer_state_dir(p->cfg.state_dir, rt && rt[0] ? rt : getenv("XDG_RUNTIME_DIR"), dir,
                       sizeof dir);
    if (pe_offer_declined(dir, user, time(NULL))) {
        pe_log(p, LOG_INFO, "renewal declined within the last day: not asked");
        return NULL;
    }
    pe_offer_renew_question(f->not_after, q, sizeof q);
    if (pe_offer_ask(p->pamh, q))
        return "renew";
    if (!pe_offer_remember_decline(dir, user))
        pe_log(p, LOG_INFO, "cannot remember the declined renewal in %s", dir[0] ? dir : "(none)");
    return NULL;
}

/* The after_failure line, reached when the card login failed: if that spent a PIN try (the
 * first line's probe saw more), the user may have forgotten the PIN: offer a reset. */
static const char *after_failure(struct pe *p, const struct probe_facts *f, unsigned ops)
{
    int before = pe_offer_stored_tries(p->pamh);

    if (!(ops & CONF_OP_PINRESET) || before <= 0)
        return NULL;
    if (!(f->state == PROBE_PIN_LOCKED ||
          (f->state == PROBE_ENROLLED && f->pin_tries_left >= 0 && f->pin_tries_left < before)))
        return NULL;
    pe_log(p, LOG_INFO, "the card login spent a PIN try (%d left, %d before)", f->pin_tries_left,
           before);
    return pe_offer_ask(p->pamh, "Forgot your PIN? Reset it with your directory password? [y/N] ")
               ? esc_op_word(TPS_OP_RESET_PIN)
               : NULL;
}

PE_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    struct pe p;
    struct probe_facts f;
    struct probe_opts po;
    struct pe_cache_use cache;
    const char *op;
    char err[160] = "", seat[SEAT_NAME_MAX] = "";
    unsigned ops;

    memset(&p, 0, sizeof p);
    p.conf.log_level = ESC_LOG_WARN; /* until esc.conf is read */
    p.pamh = pamh;
    if (pe_cfg_parse(&p.cfg, argc, argv, err, sizeof err) > 0)
        pe_log(&p, LOG_ERR, "%s", err);
    p.silent = (flags & PAM_SILENT) || p.cfg.quiet;
    p.deadline = ipc_now_ms() + 1000L * p.cfg.timeout_s;
    esc_log_init("pam_esc", p.cfg.debug ? ESC_LOG_DEBUG : ESC_LOG_WARN, !p.cfg.debug_stderr);
    if (load_conf(&p) != ESC_OK)
        return PAM_IGNORE;
    conf_apply_log_level(&p.conf);
    /* before anything touches the card: only a login by the person at the machine */
    if (!local_login(&p))
        return PAM_IGNORE;
    ops = p.cfg.have_ops ? p.cfg.ops : p.conf.login_operations;
    if (ops == 0) {
        pe_log(&p, LOG_INFO, "no operation offered at login: nothing to do");
        return PAM_IGNORE;
    }
    /* only what the decision needs; the certificates are read only when renew is offered */
    po = (struct probe_opts){.timeout_ms = p.conf.probe_timeout_ms,
                             .reader = p.conf.reader,
                             .decide_only = true,
                             .check_expiry = (ops & CONF_OP_RENEW) != 0};
    /* where logind runs, only a reader of the login's own seat */
    if (p.cfg.test_reader_seat[0] || seat_logind_running(NULL)) {
        pe_session_seat(pamh, seat, sizeof seat);
        po.seat = seat;
        if (p.cfg.test_reader_seat[0]) /* tests only (pe_cfg.h) */
            po.reader_seat = p.cfg.test_reader_seat;
    }
    if (p.cfg.test_state >= 0) { /* tests only (pe_cfg.h) */
        memset(&f, 0, sizeof f);
        f.state = (enum probe_state)p.cfg.test_state;
        snprintf(f.reader, sizeof f.reader, "test reader");
    } else {
        /* the login after a successful one, same card in: the PIN tries alone, or with remember
         * no APDU at all (pe_cache.h) */
        memset(&cache, 0, sizeof cache);
        if (!p.cfg.no_remember) {
            pe_cache_hook(&cache, &po, po.check_expiry);
            po.confirm_known = !p.cfg.remember;
        }
        probe_card(&po, &f);
        pe_cache_decided(pamh, &cache, &f);
    }
    op = p.cfg.after_failure         ? after_failure(&p, &f, ops)
         : f.state == PROBE_ENROLLED ? enrolled(&p, &f, ops)
                                     : decide(f.state, ops);
    if (f.other_seat[0])
        pe_log(&p, LOG_INFO, "card in \"%s\" on %s, not on this login's %s: left alone (%u ms)",
               f.reader, f.other_seat, seat, f.elapsed_ms);
    else
        pe_log(&p, LOG_INFO, "card %s in \"%s\" (%u ms%s): %s", probe_state_name(f.state), f.reader,
               f.elapsed_ms,
               f.tries_read   ? ", remembered, PIN tries read"
               : f.from_cache ? ", remembered"
                              : "",
               op ? op : "nothing to do");
    if (op && !ca_file_ok(&p))
        op = NULL; /* said why; the stack goes on as without pam_esc */
    if (op && hand_off(&p, op, f.reader) == ESC_OK && p.cfg.after_failure) {
        /* the card login module cannot run twice in one transaction (pam_pkcs11 0.6.12
         * crashes): this attempt ends here, the next one logs in with the new PIN */
        pam_info(pamh, "Your PIN was reset. Try again with the new PIN.");
        secret_wipe(&f, sizeof f);
        return PAM_AUTH_ERR;
    }
    secret_wipe(&f, sizeof f);
    return PAM_IGNORE; /* never PAM_SUCCESS: the next module logs the user in */
}

PE_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)argc;
    (void)argv;
    /* called after a successful authentication: the PIN was right (pe_cache.h); unless
     * no_remember, pam_sm_authenticate left an entry to confirm */
    pe_cache_confirm(pamh, flags);
    return PAM_IGNORE;
}
