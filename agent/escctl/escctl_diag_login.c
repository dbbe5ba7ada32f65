/* escctl diag, check 9: will the login work with this card for this user? (escctl_diag.h)
 *
 * The module is --pam-module, else the one the PAM stack calls (escctl_diag_login.h). For
 * pam_pkcs11: the certificate verifies against ca_dir's hash links (when cert_policy has ca)
 * and one mapper of use_mappers maps it to the user; cn, uid, subject, pwent and null are
 * evaluated as pam_pkcs11 does (mapfile "none" or a local file), the others are named as not
 * checked. For pam_sss: [pam] pam_cert_auth, the CA db verifies the certificate, and a certmap
 * rule exists whose matchrule's <ISSUER>, <SUBJECT>, <KU> and <EKU> parts match; other parts
 * and the maprule (a directory lookup) are named as not checked. Any certificate of the card
 * passing is enough, as both modules try each. --import-ca comes first, when asked. */
#include "escctl_diag.h"
#include "escctl_diag_login.h"

#include "engine/trust.h"
#include "escctl.h"
#include "escctl_ops.h"

#include <pwd.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define NAME_MAX_TXT 1024

/* Copy as much of src as fits (cut text is still a valid sentence part). */
static void put(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A certificate of the card, as the checks see it. */
struct lcert {
    const uint8_t *der;
    size_t len;
    char issuer[NAME_MAX_TXT], subject[NAME_MAX_TXT];
};

static void add_not_checked(struct diag_login *L, const char *what)
{
    size_t n = strlen(L->not_checked);
    if (strstr(L->not_checked, what))
        return;
    snprintf(L->not_checked + n, sizeof L->not_checked - n, "%s%s", n ? ", " : "", what);
}

/* ---- pam_pkcs11's mappers ---- */

/* mapfile_find: 1 mapped (out set), 0 no entry (out = key), -1 the mapfile is not checked
 * (another URL scheme) or unreadable. */
static int map_key(const char *mapfile, const char *key, bool icase, char *out, size_t cap)
{
    char *text = NULL, err[256];
    size_t len;
    const char *path = mapfile;
    int rc = 0;

    put(out, cap, key);
    if (!mapfile[0] || strcmp(mapfile, "none") == 0)
        return 0;
    if (strncmp(path, "file://", 7) == 0)
        path += 7;
    if (path[0] != '/' || dpc_read_file(path, &text, &len, err, sizeof err) != 0)
        return -1;
    for (char *line = text, *nl; line && *line && rc == 0; line = nl) {
        char *sep;
        bool hit;
        nl = strchr(line, '\n');
        if (nl)
            *nl++ = '\0';
        line += strspn(line, " \t\r");
        if (*line == '#' || !(sep = strstr(line, " -> ")))
            continue;
        *sep = '\0';
        if (line[0] == '^' && line[strlen(line) - 1] == '$') {
            regex_t re;
            hit = regcomp(&re, line, (icase ? REG_ICASE : 0) | REG_NEWLINE) == 0 &&
                  regexec(&re, key, 0, NULL, 0) == 0;
            if (hit || true)
                regfree(&re);
        } else {
            hit = icase ? strcasecmp(key, line) == 0 : strcmp(key, line) == 0;
        }
        if (hit) {
            put(out, cap, sep + 4);
            out[strcspn(out, "\r")] = '\0';
            rc = 1;
        }
    }
    free(text);
    return rc;
}

/* 1 the mapper maps the certificate to user, 0 not, -1 not checked. `seen` gets the value
 * read from the certificate. */
static int mapper_matches(const struct dpc_mapper *m, const struct lcert *c, const char *user,
                          char *seen, size_t scap)
{
    char vals[2048], mapped[512];
    const char *what = strcmp(m->name, "cn") == 0 || strcmp(m->name, "pwent") == 0 ? "cn"
                       : strcmp(m->name, "uid") == 0                               ? "uid"
                       : strcmp(m->name, "subject") == 0                           ? "subject"
                                                                                   : NULL;
    size_t n;

    seen[0] = '\0';
    if (m->module[0] && strcmp(m->module, "internal") != 0 &&
        !strstr(m->module, m->name)) /* a module other than the mapper of that name */
        return -1;
    if (strcmp(m->name, "null") == 0)
        return m->default_match ? 1 : 0;
    if (!what)
        return -1;
    n = dca_name_values(c->der, c->len, what, vals, sizeof vals);
    for (const char *v = vals; n > 0; n--, v += strlen(v) + 1) {
        put(seen, scap, v);
        if (strcmp(m->name, "pwent") == 0) {
            struct passwd *pw = getpwnam(user);
            if (pw &&
                (m->ignorecase ? strcasecmp(pw->pw_name, v) == 0 || strcasecmp(pw->pw_gecos, v) == 0
                               : strcmp(pw->pw_name, v) == 0 || strcmp(pw->pw_gecos, v) == 0))
                return 1;
            continue;
        }
        if (map_key(m->mapfile, v, m->ignorecase, mapped, sizeof mapped) < 0)
            return -1;
        if (m->ignorecase ? strcasecmp(mapped, user) == 0 : strcmp(mapped, user) == 0)
            return 1;
    }
    return 0;
}

static bool check_pkcs11(struct diag *d, struct lcert *certs, size_t nc)
{
    static struct dpc_pkcs11 pc;
    struct diag_login *L = &d->login;
    char err[600], why[256] = "", hash[16] = "", seen[512] = "", first_why[256] = "";
    char *text;
    size_t len;
    bool policy_ca, any_trusted = false;
    int unchecked = 0;

    snprintf(L->config, sizeof L->config, "%s",
             d->args->pam_pkcs11_conf ? d->args->pam_pkcs11_conf : DIAG_PAM_PKCS11_CONF);
    if (dpc_read_file(L->config, &text, &len, err, sizeof err) != 0)
        return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                        "pam_pkcs11 is in the PAM stack (%s) but %s: install or correct it.",
                        L->module_from, err);
    if (dpc_parse_pkcs11(text, len, L->config, &pc, err, sizeof err) != 0) {
        free(text);
        return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                        "%s: correct this line of pam_pkcs11's configuration.", err);
    }
    free(text);
    if (!pc.module_found)
        return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                        "%s: use_pkcs11_module names \"%s\" but no pkcs11_module block of that "
                        "name exists: correct it.",
                        L->config, pc.use_module);
    put(L->ca_store, sizeof L->ca_store, pc.ca_dir[0] ? pc.ca_dir : DIAG_PKCS11_CA_DIR);
    policy_ca = strstr(pc.cert_policy, "ca") != NULL;
    if (strstr(pc.cert_policy, "crl_") || strstr(pc.cert_policy, "ocsp_"))
        add_not_checked(L, "CRL/OCSP of cert_policy");
    for (size_t i = 0; i < pc.nmappers; i++) {
        const char *nm = pc.mappers[i].name;
        if (strcmp(nm, "cn") && strcmp(nm, "uid") && strcmp(nm, "subject") && strcmp(nm, "pwent") &&
            strcmp(nm, "null"))
            add_not_checked(L, nm);
    }
    /* a certificate that verifies and maps is enough */
    for (size_t k = 0; k < nc; k++) {
        int t = 1;
        if (policy_ca) {
            t = dca_verify(certs[k].der, certs[k].len, L->ca_store, NULL, why, sizeof why, hash,
                           sizeof hash);
            if (t != 1 && !first_why[0])
                snprintf(first_why, sizeof first_why, "%s (the issuer's link would be %s.0)", why,
                         hash);
        }
        if (t != 1)
            continue;
        any_trusted = true;
        for (size_t i = 0; i < pc.nmappers; i++) {
            int r = mapper_matches(&pc.mappers[i], &certs[k], L->user, seen, sizeof seen);
            if (r < 0) {
                add_not_checked(L, pc.mappers[i].name);
                unchecked++;
            }
            if (r == 1) {
                L->issuer_trusted = policy_ca ? 1 : -1;
                put(L->mapper, sizeof L->mapper, pc.mappers[i].name);
                return diag_add(d, "login", DIAG_OK, 0,
                                "pam_pkcs11 (%s) will accept the card for %s: %s, and its %s "
                                "mapper maps the certificate (%s) to %s.",
                                L->module_from, L->user,
                                policy_ca ? "ca_dir trusts the certificate's issuer"
                                          : "cert_policy has no ca (the issuer is not checked)",
                                pc.mappers[i].name, certs[k].subject, L->user);
            }
        }
    }
    L->issuer_trusted = policy_ca ? (any_trusted ? 1 : 0) : -1;
    if (!any_trusted)
        return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                        "pam_pkcs11's ca_dir %s (%s) does not trust the card certificate's "
                        "issuer %s: %s; put its CA certificate there with a <hash>.0 link "
                        "(openssl rehash), or run escctl diag --import-ca as root.",
                        L->ca_store, L->config, certs[0].issuer, first_why);
    if (unchecked || (pc.nmappers == 0 && L->not_checked[0]))
        return diag_add(d, "login", DIAG_SKIPPED, 0,
                        "None of the mappers escctl diag evaluates maps the card's certificate "
                        "(%s) to %s; %s %s not checked: see use_mappers in %s.",
                        certs[0].subject, L->user, L->not_checked,
                        strchr(L->not_checked, ',') ? "are" : "is", L->config);
    return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                    "No mapper of use_mappers in %s maps the card's certificate (%s) to the "
                    "user %s: add a mapfile entry for the cn or uid mapper there.",
                    L->config, certs[0].subject, L->user);
}

/* ---- SSSD ---- */

/* Evaluate a matchrule: 1 matches, 0 not, and the parts it cannot evaluate in L. */
static int matchrule_matches(struct diag_login *L, const char *rule, const struct lcert *c)
{
    bool any = false, all = true, or_rule = false;
    const char *p = rule;

    if (strncmp(p, "&&", 2) == 0) {
        p += 2;
    } else if (strncmp(p, "||", 2) == 0) {
        or_rule = true;
        p += 2;
    }
    while (*p == '<') {
        const char *te = strchr(p, '>'), *ve;
        char type[32], val[DPC_VALUE_MAX];
        int r = -1;
        if (!te || te - p - 1 >= (long)sizeof type)
            return 0;
        snprintf(type, sizeof type, "%.*s", (int)(te - p - 1), p + 1);
        ve = strchr(te + 1, '<');
        if (!ve)
            ve = te + 1 + strlen(te + 1);
        snprintf(val, sizeof val, "%.*s", (int)(ve - te - 1), te + 1);
        if (strcmp(type, "ISSUER") == 0 || strcmp(type, "SUBJECT") == 0) {
            regex_t re;
            if (regcomp(&re, val, REG_EXTENDED | REG_NOSUB) == 0) {
                r = regexec(&re, type[0] == 'I' ? c->issuer : c->subject, 0, NULL, 0) == 0;
                regfree(&re);
            } else {
                r = 0;
            }
        } else if (strcmp(type, "KU") == 0 || strcmp(type, "EKU") == 0) {
            r = 1;
            for (char *tok = strtok(val, ","); tok && r != -1; tok = strtok(NULL, ",")) {
                int has;
                if (type[0] == 'K')
                    has = dca_has_ku(c->der, c->len, tok);
                else if (strcmp(tok, "clientAuth") && strcmp(tok, "serverAuth") &&
                         strcmp(tok, "emailProtection") && strcmp(tok, "codeSigning") &&
                         strcmp(tok, "timeStamping") && strcmp(tok, "OCSPSigning"))
                    has = -1;
                else
                    has = dca_has_eku(c->der, c->len, tok);
                if (has < 0)
                    r = -1;
                else if (!has)
                    r = 0;
            }
        }
        if (r < 0) {
            char what[64];
            snprintf(what, sizeof what, "matchrule <%s>", type);
            add_not_checked(L, what);
        } else {
            any = any || r;
            all = all && r;
        }
        p = ve;
    }
    return or_rule ? any : all;
}

static bool check_sssd(struct diag *d, struct lcert *certs, size_t nc)
{
    static struct dpc_sssd sc;
    struct diag_login *L = &d->login;
    char err[600], why[256] = "", hash[16];
    char *text;
    size_t len;
    bool trusted = false;

    snprintf(L->config, sizeof L->config, "%s",
             d->args->sssd_conf ? d->args->sssd_conf : DIAG_SSSD_CONF);
    if (dpc_read_file(L->config, &text, &len, err, sizeof err) != 0)
        return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                        "pam_sss is in the PAM stack (%s) but %s: write sssd.conf.", L->module_from,
                        err);
    if (dpc_parse_sssd(text, len, L->config, &sc, err, sizeof err) != 0) {
        free(text);
        return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_CONF, "%s: correct this line.", err);
    }
    free(text);
    if (!sc.cert_auth)
        return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                        "%s does not set pam_cert_auth = True in [pam], so SSSD does no "
                        "smart-card login: set it there.",
                        L->config);
    put(L->ca_store, sizeof L->ca_store, sc.ca_db[0] ? sc.ca_db : DIAG_SSSD_CA_DB);
    for (size_t k = 0; k < nc && !trusted; k++)
        trusted = dca_verify(certs[k].der, certs[k].len, NULL, L->ca_store, why, sizeof why, hash,
                             sizeof hash) == 1;
    L->issuer_trusted = trusted;
    if (!trusted)
        return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                        "SSSD's CA db %s does not trust the card certificate's issuer %s (%s): "
                        "append its CA certificate to that file (escctl diag --import-ca as "
                        "root prints it) and restart sssd.",
                        L->ca_store, certs[0].issuer, why);
    if (sc.nrules == 0)
        return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                        "%s has no [certmap/DOMAIN/NAME] rule, so SSSD finds the user only by "
                        "the whole certificate stored in the directory: add a certmap rule "
                        "there (sss-certmap(5)).",
                        L->config);
    add_not_checked(L, "maprule (a directory lookup)");
    for (size_t r = 0; r < sc.nrules; r++) {
        for (size_t k = 0; k < nc; k++) {
            if (!sc.rules[r].matchrule[0] ||
                matchrule_matches(L, sc.rules[r].matchrule, &certs[k]) == 1) {
                snprintf(L->mapper, sizeof L->mapper, "%.63s", sc.rules[r].name);
                return diag_add(d, "login", DIAG_OK, 0,
                                "pam_sss (%s): %s trusts the card certificate's issuer and "
                                "the rule [%s] matches its certificate (%s); its maprule "
                                "(%s) is a directory lookup, not checked.",
                                L->module_from, L->ca_store, sc.rules[r].name, certs[k].subject,
                                sc.rules[r].maprule);
            }
        }
    }
    return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_CONF,
                    "No certmap rule's matchrule in %s matches the card's certificate (issuer "
                    "%s, subject %s): correct the rule [%s] there.",
                    L->config, certs[0].issuer, certs[0].subject, sc.rules[0].name);
}

/* ---- --import-ca ---- */

static bool import_ca(struct diag *d, const struct lcert *c, char *done, size_t dcap)
{
    struct diag_login *L = &d->login;
    const struct ph_profile *ph = d->have_fetched  ? &d->fetched
                                  : d->have_cached ? &d->cached
                                                   : NULL;
    const char *url = ph ? ph->ca_chain_ui : "";
    bool sss = strcmp(L->module, "pam_sss") == 0;
    char err[700], report[1400];
    int n;

    if (geteuid() != 0)
        return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_FAIL,
                        "--import-ca changes what the system's login trusts: run it as root.");
    if (!url[0])
        return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_NET,
                        "The phone-home server names no CA chain (<CAChainUI>) for this card, "
                        "so there is nothing to import: get the CA certificate from its "
                        "administrator.");
    /* https only: allow_http_hosts does not apply to what the login will trust */
    struct trust_policy https_only = d->trust;
    https_only.allow_http_hosts = NULL;
    if (trust_check_url(&https_only, url, err, sizeof err, NULL) != ESC_OK)
        return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_UNTRUSTED,
                        "The CA chain URL is refused: %s Nothing was fetched (it must be https "
                        "from a host in allowed_hosts of esc.conf).",
                        err);
    if (sss)
        fprintf(stderr,
                "escctl diag: append these certificates to %s, then restart sssd "
                "(systemctl restart sssd):\n",
                sss && L->ca_store[0] ? L->ca_store : DIAG_SSSD_CA_DB);
    n = dca_import(url, d->trust.ca_file, d->net_timeout_ms, c ? c->der : NULL, c ? c->len : 0,
                   L->ca_store, sss ? stderr : NULL, report, sizeof report, err, sizeof err);
    if (n < 0)
        return diag_add(d, "login", DIAG_PROBLEM, ESCCTL_EXIT_NET, "--import-ca: %s.", err);
    snprintf(done, dcap, "%s %d CA certificate%s from %.300s (%.500s). ",
             sss ? "Printed on stderr" : "Imported", n, n == 1 ? "" : "s", url, report);
    return true;
}

/* The store the import writes to, before the configuration has been read by the check. */
static void import_target(struct diag *d)
{
    static struct dpc_pkcs11 pc;
    static struct dpc_sssd sc;
    struct diag_login *L = &d->login;
    char err[256], *text;
    size_t len;
    bool sss = strcmp(L->module, "pam_sss") == 0;
    const char *conf =
        sss ? (d->args->sssd_conf ? d->args->sssd_conf : DIAG_SSSD_CONF)
            : (d->args->pam_pkcs11_conf ? d->args->pam_pkcs11_conf : DIAG_PAM_PKCS11_CONF);

    put(L->ca_store, sizeof L->ca_store, sss ? DIAG_SSSD_CA_DB : DIAG_PKCS11_CA_DIR);
    if (dpc_read_file(conf, &text, &len, err, sizeof err) != 0)
        return;
    if (sss && dpc_parse_sssd(text, len, conf, &sc, err, sizeof err) == 0 && sc.ca_db[0])
        put(L->ca_store, sizeof L->ca_store, sc.ca_db);
    if (!sss && dpc_parse_pkcs11(text, len, conf, &pc, err, sizeof err) == 0 && pc.ca_dir[0])
        put(L->ca_store, sizeof L->ca_store,
            strncmp(pc.ca_dir, "file://", 7) == 0 ? pc.ca_dir + 7 : pc.ca_dir);
    free(text);
}

/* ---- the check ---- */

bool diag_check_login(struct diag *d)
{
    static struct lcert certs[CERTS_MAX];
    struct diag_login *L = &d->login;
    char done[1600] = "";
    size_t nc = 0;
    bool ok;

    L->ran = true;
    L->issuer_trusted = -1;
    if (d->args->user) {
        put(L->user, sizeof L->user, d->args->user);
    } else {
        struct passwd *pw = getpwuid(getuid());
        put(L->user, sizeof L->user, pw ? pw->pw_name : "?");
    }
    if (d->args->pam_module) {
        put(L->module, sizeof L->module, d->args->pam_module);
        snprintf(L->module_from, sizeof L->module_from, "--pam-module");
    } else if (!dpc_detect_module(d->args->pam_dir ? d->args->pam_dir : DIAG_PAM_DIR, L->module,
                                  sizeof L->module, L->module_from, sizeof L->module_from)) {
        return diag_add(d, "login", DIAG_SKIPPED, 0,
                        "Not checked: %s's gdm-smartcard, login and common-auth call neither "
                        "pam_pkcs11 nor pam_sss for authentication (name one with "
                        "--pam-module).",
                        d->args->pam_dir ? d->args->pam_dir : DIAG_PAM_DIR);
    }
    if (d->certs_read_tried == false) {
        d->certs_read_tried = true;
        d->have_certs = certs_read_card(d->reader, d->card_timeout_ms, &d->certs) == ESC_OK;
    }
    for (size_t i = 0; d->have_certs && i < d->certs.n && nc < CERTS_MAX; i++) {
        struct lcert *c = &certs[nc];
        c->der = d->certs.obj[i].der;
        c->len = certs_der_len(c->der, d->certs.obj[i].der_len);
        if (dca_names(c->der, c->len, c->issuer, sizeof c->issuer, c->subject, sizeof c->subject) ==
            0)
            nc++;
    }
    if (d->args->import_ca) {
        import_target(d);
        if (!import_ca(d, nc ? &certs[0] : NULL, done, sizeof done))
            return false;
    }
    if (nc == 0)
        return diag_add(d, "login", DIAG_SKIPPED, 0,
                        "%sNot checked: the card holds no certificate yet (%s); run escctl diag "
                        "again after enrollment.",
                        done, probe_state_name(d->facts.state));
    ok = strcmp(L->module, "pam_sss") == 0 ? check_sssd(d, certs, nc) : check_pkcs11(d, certs, nc);
    if (done[0] && d->n) { /* say what the import did in front of the verdict */
        struct diag_check *c = &d->checks[d->n - 1];
        char tmp[DIAG_DETAIL_MAX];
        snprintf(tmp, sizeof tmp, "%s%s", done, c->detail);
        put(c->detail, sizeof c->detail, tmp);
    }
    return ok;
}
