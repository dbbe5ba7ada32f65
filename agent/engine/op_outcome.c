/* op_outcome: what an operation really did, told from the card read back after it (issue 11,
 * defects 4 and 10). A TPS's END_OP result 0 is a claim, not a fact: the card probed after the
 * operation decides whether the user is told it worked (and whether the PIN typed during it
 * is handed on). A failed operation that still changed the card says so. See agent_op.h. */
#include "agent_op.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The progress Dogtag reports when it starts writing the final objects to the card
 * (TPSEnrollProcessor: statusUpdate(92, "PROGRESS_WRITE_OBJECTS")). */
#define WRITE_OBJECTS_PCT 92

static bool readable(const struct probe_facts *f)
{
    switch (f->state) {
    case PROBE_NO_APPLET:
    case PROBE_UNINITIALIZED:
    case PROBE_ENROLLED:
    case PROBE_PIN_LOCKED:
    case PROBE_EXPIRED:
        return true;
    default:
        return false;
    }
}

/* New certificates on the card, not the old ones read again: a later notAfter, or other
 * certificates (their DER differs) that expire no sooner. A renewal within the same second as
 * the last issuance has the same notAfter: the certificates themselves tell it. */
static bool renewed(const struct probe_facts *before, const struct probe_facts *after)
{
    if (after->not_after > before->not_after)
        return true;
    return after->not_after == before->not_after && after->certs_id != 0 && before->certs_id != 0 &&
           after->certs_id != before->certs_id;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void date_of(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(out, cap, "%Y-%m-%d", &tm) == 0)
        snprintf(out, cap, "an unknown date");
}

/* What the card is, in words: "not enrolled", "enrolled, certificates valid until ...". */
static void card_words(const struct probe_facts *f, char *out, size_t cap)
{
    char d[32];
    date_of(f->not_after, d, sizeof d);
    switch (f->state) {
    case PROBE_NO_APPLET:
        snprintf(out, cap, "it has no card program (applet)");
        break;
    case PROBE_UNINITIALIZED:
        snprintf(out, cap, "it is not enrolled (%zu certificate%s)", f->ncerts,
                 f->ncerts == 1 ? "" : "s");
        break;
    case PROBE_ENROLLED:
        snprintf(out, cap, "it is enrolled, its certificates valid until %s", d);
        break;
    case PROBE_PIN_LOCKED:
        snprintf(out, cap, "its PIN is blocked");
        break;
    case PROBE_EXPIRED:
        snprintf(out, cap, "its certificates expired on %s", d);
        break;
    default:
        snprintf(out, cap, "it could not be read (%s)",
                 esc_strerror(f->err != ESC_OK ? f->err : ESC_ERR_NO_CARD));
        break;
    }
}

static const char *op_claim(int op)
{
    const struct esc_op *o = esc_op_get(op);
    return o ? o->done : "the operation succeeded";
}

/* The TPS said result 0: check the card. ESC_OK and the success sentence, or why not. */
static esc_err check_success(int op, const struct probe_facts *before,
                             const struct probe_facts *after, char *s, size_t cap)
{
    char d[32], d0[32], words[160];
    bool ok = false;
    date_of(after->not_after, d, sizeof d);
    date_of(before->not_after, d0, sizeof d0);
    card_words(after, words, sizeof words);
    if (!readable(after)) {
        /* one sentence: the card error's own words go in brackets, not after a colon */
        esc_err e = after->err != ESC_OK ? after->err : ESC_ERR_NO_CARD;
        if (e == ESC_ERR_NO_CARD || e == ESC_ERR_CARD_REMOVED)
            snprintf(s, cap,
                     "The token server reported that %s, but the card was removed before it "
                     "could be read back; put it back and check it with escctl status.",
                     op_claim(op));
        else
            snprintf(s, cap,
                     "The token server reported that %s, but the card could not be read back "
                     "afterwards (%c%s); check it with escctl status.",
                     op_claim(op), lower(esc_strerror(e)[0]), esc_strerror(e) + 1);
        return e;
    }
    switch (op) {
    case TPS_OP_ENROLL:
        ok = after->state == PROBE_ENROLLED && after->ncerts > 0;
        if (ok)
            snprintf(s, cap, "The card was enrolled: %zu certificate%s, valid until %s.",
                     after->ncerts, after->ncerts == 1 ? "" : "s", d);
        break;
    case TPS_OP_RENEW:
        ok = after->state == PROBE_ENROLLED && after->ncerts > 0 && renewed(before, after);
        if (ok && before->not_after > 0)
            snprintf(s, cap, "The certificates were renewed: valid until %s (before: until %s).", d,
                     d0);
        else if (ok)
            snprintf(s, cap, "The certificates were renewed: valid until %s.", d);
        else if (after->ncerts > 0 && !renewed(before, after))
            snprintf(words, sizeof words, "they are still valid only until %s", d);
        break;
    case TPS_OP_FORMAT:
        ok = (after->state == PROBE_UNINITIALIZED || after->state == PROBE_NO_APPLET) &&
             after->ncerts == 0;
        if (ok)
            snprintf(s, cap, "The card was formatted: it holds no certificates.");
        break;
    case TPS_OP_RESET_PIN:
        /* the PIN itself cannot be checked (no VERIFY, coolkey.h): its try counter can */
        ok = after->state != PROBE_PIN_LOCKED && after->state != PROBE_NO_APPLET &&
             after->pin_tries_left > 0 &&
             (before->pin_tries_left < 0 || after->pin_tries_left >= before->pin_tries_left);
        if (ok)
            snprintf(s, cap, "The card was given a new PIN (%d tries before it blocks).",
                     after->pin_tries_left);
        break;
    default:
        break;
    }
    if (ok)
        return ESC_OK;
    snprintf(s, cap, "The token server reported that %s, but it did not happen: %s.", op_claim(op),
             words);
    return ESC_ERR_SERVER;
}

/* Append "; <more>." to the failure sentence in s (its final period dropped). */
static void append(char *s, size_t cap, const char *more)
{
    size_t n = strlen(s);
    char base[400];
    if (n && s[n - 1] == '.')
        n--;
    snprintf(base, sizeof base, "%.*s", (int)n, s);
    snprintf(s, cap, "%s; %s.", base, more);
}

/* The operation failed: say what the card became when that matters to the user. */
static void explain_failure(int op, const struct probe_facts *before,
                            const struct probe_facts *after, const struct tps_op_result *res,
                            char *s, size_t cap)
{
    char d[32], more[320];
    date_of(after->not_after, d, sizeof d);
    bool writes = op == TPS_OP_ENROLL || op == TPS_OP_RENEW || op == TPS_OP_FORMAT;
    if ((op == TPS_OP_ENROLL || op == TPS_OP_RENEW) && after->state == PROBE_ENROLLED &&
        after->ncerts > 0 && (before->state != PROBE_ENROLLED || renewed(before, after))) {
        snprintf(more, sizeof more,
                 "the card was written nonetheless: it is enrolled, its certificates valid until "
                 "%s, but the token server may not have recorded it; run the %s again so that "
                 "it does",
                 d, op == TPS_OP_RENEW ? "renewal" : "enrollment");
        append(s, cap, more);
    } else if (op == TPS_OP_FORMAT && readable(after) && after->ncerts == 0 && before->ncerts > 0) {
        append(s, cap, "the card was emptied nonetheless: it holds no certificates");
    } else if (op == TPS_OP_RESET_PIN && before->state == PROBE_PIN_LOCKED && readable(after) &&
               after->state != PROBE_PIN_LOCKED && after->pin_tries_left > 0) {
        append(s, cap,
               "the card's PIN was unblocked nonetheless, but the token server may not "
               "have recorded it");
    } else if (op == TPS_OP_RESET_PIN && !readable(after) && res->pin_write == TPS_PIN_WRITTEN) {
        append(s, cap,
               "the new PIN had already been written to the card, so it is in force: use it "
               "when you put the card back");
    } else if (op == TPS_OP_RESET_PIN && !readable(after) && res->pin_write == TPS_PIN_SENT) {
        append(s, cap,
               "the new PIN was being written when it happened, so the card may have it or "
               "still the old one: put it back and check it with escctl status");
    } else if (op == TPS_OP_RESET_PIN && !readable(after)) {
        append(s, cap, "the PIN on the card was not changed");
    } else if (before->state != PROBE_NO_APPLET && !readable(after) &&
               (res->applet == TPS_APPLET_DELETING || res->applet == TPS_APPLET_INSTALLING)) {
        append(s, cap,
               "the card's program (applet) was being replaced when it happened, so the card may "
               "have been left without it: put it back and check it with escctl status");
    } else if (before->state != PROBE_NO_APPLET &&
               (after->state == PROBE_NO_APPLET ||
                (!readable(after) && res->applet == TPS_APPLET_GONE))) {
        /* the TPS deletes the applet before it loads the new one (applet upgrade) */
        append(s, cap,
               "the card was left without its card program (applet) and must be enrolled "
               "again before it can be used");
    } else if (writes && !readable(after) && res->last_pct >= WRITE_OBJECTS_PCT) {
        append(s, cap,
               "the token server had started writing the certificates, so the card may be "
               "enrolled although the server has not recorded it: put it back and check it "
               "with escctl status");
    }
}

esc_err agent_op_outcome(int op, const struct probe_facts *before, const struct probe_facts *after,
                         const struct tps_op_result *res, esc_err err, char *sentence, size_t cap)
{
    if (err == ESC_OK)
        return check_success(op, before, after, sentence, cap);
    explain_failure(op, before, after, res, sentence, cap);
    return err;
}
