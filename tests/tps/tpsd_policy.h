/* tpsd_policy: a token's policy, as Dogtag's TPSTokenPolicy reads it: the default policy
 * (CS.cfg tokendb.defaultPolicy, here --default-policy), then the token record's own policy
 * string on top, "KEY=YES|NO;KEY=YES|NO;...". Keys (case-insensitive): RE_ENROLL, RENEW,
 * FORCE_FORMAT, PIN_RESET, RESET_PIN_RESET_TO_NO, RENEW_KEEP_OLD_ENC_CERTS. YES/true and
 * NO/false (any case); another value gives the key's fallback (TPSTokenPolicy.getBool). */
#ifndef TPSD_POLICY_H
#define TPSD_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* pki base/tps/shared/conf/CS.cfg tokendb.defaultPolicy */
#define TPSD_DOGTAG_DEFAULT_POLICY                                                                 \
    "RE_ENROLL=YES;RENEW=NO;FORCE_FORMAT=NO;PIN_RESET=NO;RESET_PIN_RESET_TO_NO=NO"

struct tpsd_policy {
    bool re_enroll, renew, force_format, pin_reset, reset_pin_reset_to_no, renew_keep_old_enc;
};

/* TPSTokenPolicy's field initialisers (before any policy string is read). */
void tpsd_policy_init(struct tpsd_policy *p);
/* Applies a policy string on top of *p; unknown keys and pairs without '=' are ignored.
 * NULL or "" changes nothing. */
void tpsd_policy_apply(struct tpsd_policy *p, const char *s);
/* The effective policy of a token: init, default string, the record's string. */
void tpsd_policy_resolve(struct tpsd_policy *p, const char *default_policy, const char *record);
/* The string TPSTokenPolicy.updatePolicySet writes. 0, or -1 if it does not fit. */
int tpsd_policy_format(const struct tpsd_policy *p, char *out, size_t cap);

#endif
