/* tpsd_policy: token policy strings (TPSTokenPolicy). */
#include "tpsd_policy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void tpsd_policy_init(struct tpsd_policy *p)
{
    *p = (struct tpsd_policy){.re_enroll = true, .pin_reset = true, .renew_keep_old_enc = true};
}

/* TPSTokenPolicy.getBool */
static bool get_bool(const char *v, size_t n, bool fallback)
{
    if ((n == 3 && strncasecmp(v, "YES", 3) == 0) || (n == 4 && strncasecmp(v, "true", 4) == 0))
        return true;
    if ((n == 2 && strncasecmp(v, "NO", 2) == 0) || (n == 5 && strncasecmp(v, "false", 5) == 0))
        return false;
    return fallback;
}

static bool key_is(const char *k, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(k, name, n) == 0;
}

void tpsd_policy_apply(struct tpsd_policy *p, const char *s)
{
    while (s && *s) {
        size_t n = strcspn(s, ";");
        const char *eq = memchr(s, '=', n);
        if (eq) {
            size_t kl = (size_t)(eq - s), vl = n - kl - 1;
            const char *v = eq + 1;
            /* the fallbacks are parsePolicySetString's second getBool arguments */
            if (key_is(s, kl, "RE_ENROLL"))
                p->re_enroll = get_bool(v, vl, true);
            else if (key_is(s, kl, "RENEW"))
                p->renew = get_bool(v, vl, false);
            else if (key_is(s, kl, "FORCE_FORMAT"))
                p->force_format = get_bool(v, vl, false);
            else if (key_is(s, kl, "PIN_RESET"))
                p->pin_reset = get_bool(v, vl, false);
            else if (key_is(s, kl, "RESET_PIN_RESET_TO_NO"))
                p->reset_pin_reset_to_no = get_bool(v, vl, false);
            else if (key_is(s, kl, "RENEW_KEEP_OLD_ENC_CERTS"))
                p->renew_keep_old_enc = get_bool(v, vl, true);
        }
        s += n;
        if (*s == ';')
            s++;
    }
}

void tpsd_policy_resolve(struct tpsd_policy *p, const char *default_policy, const char *record)
{
    tpsd_policy_init(p);
    tpsd_policy_apply(p, default_policy);
    tpsd_policy_apply(p, record);
}

int tpsd_policy_format(const struct tpsd_policy *p, char *out, size_t cap)
{
#define YN(b) ((b) ? "YES" : "NO")
    int n = snprintf(out, cap,
                     "RE_ENROLL=%s;RENEW=%s;FORCE_FORMAT=%s;PIN_RESET=%s;RESET_PIN_RESET_TO_NO=%s;"
                     "RENEW_KEEP_OLD_ENC_CERTS=%s",
                     YN(p->re_enroll), YN(p->renew), YN(p->force_format), YN(p->pin_reset),
                     YN(p->reset_pin_reset_to_no), YN(p->renew_keep_old_enc));
#undef YN
    return n > 0 && (size_t)n < cap ? 0 : -1;
}
