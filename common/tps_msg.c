/* tps_msg: Dogtag TPS message codec. See tps_msg.h and reference/tps-protocol.md §2. */
#include "tps_msg.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX 7                       /* room for "s=9999&" in front of the payload */
#define ENC_AT (TPS_ENC_HEAD + PREFIX) /* where the encoder writes the payload */

/* ---- names ---------------------------------------------------------------------------- */

const char *tps_msg_type_name(int type)
{
    static const char *const names[] = {
        [TPS_MSG_BEGIN_OP] = "BEGIN_OP",
        [TPS_MSG_LOGIN_REQUEST] = "LOGIN_REQUEST",
        [TPS_MSG_LOGIN_RESPONSE] = "LOGIN_RESPONSE",
        [TPS_MSG_SECUREID_REQUEST] = "SECUREID_REQUEST",
        [TPS_MSG_SECUREID_RESPONSE] = "SECUREID_RESPONSE",
        [TPS_MSG_ASQ_REQUEST] = "ASQ_REQUEST",
        [TPS_MSG_ASQ_RESPONSE] = "ASQ_RESPONSE",
        [TPS_MSG_TOKEN_PDU_REQUEST] = "TOKEN_PDU_REQUEST",
        [TPS_MSG_TOKEN_PDU_RESPONSE] = "TOKEN_PDU_RESPONSE",
        [TPS_MSG_NEW_PIN_REQUEST] = "NEW_PIN_REQUEST",
        [TPS_MSG_NEW_PIN_RESPONSE] = "NEW_PIN_RESPONSE",
        [TPS_MSG_END_OP] = "END_OP",
        [TPS_MSG_STATUS_UPDATE_REQUEST] = "STATUS_UPDATE_REQUEST",
        [TPS_MSG_STATUS_UPDATE_RESPONSE] = "STATUS_UPDATE_RESPONSE",
        [TPS_MSG_EXTENDED_LOGIN_REQUEST] = "EXTENDED_LOGIN_REQUEST",
        [TPS_MSG_EXTENDED_LOGIN_RESPONSE] = "EXTENDED_LOGIN_RESPONSE",
    };
    if (type < 0 || (size_t)type >= sizeof names / sizeof names[0] || !names[type])
        return "UNKNOWN";
    return names[type];
}

const char *tps_op_name(int op)
{
    switch (op) {
    case TPS_OP_ENROLL:
        return "enroll";
    case TPS_OP_UNBLOCK:
        return "unblock";
    case TPS_OP_RESET_PIN:
        return "reset-pin";
    case TPS_OP_RENEW:
        return "renew";
    case TPS_OP_FORMAT:
        return "format";
    default:
        return "unknown";
    }
}

/* EndOpMsg.TPSStatus (pki base/common/.../tps/msg/EndOpMsg.java), §4. */
static const struct {
    const char *name;
    const char *sentence;
} status_tab[TPS_STATUS_MAX + 1] = {
    [0] = {"STATUS_NO_ERROR", "The operation completed successfully."},
    [1] = {"STATUS_ERROR_SNAC", "The token server could not understand a message."},
    [2] = {"STATUS_ERROR_SEC_INIT_UPDATE",
           "The token server could not open a secure channel to the card."},
    [3] = {"STATUS_ERROR_CREATE_CARDMGR", "The token server could not talk to the card manager."},
    [4] = {"STATUS_ERROR_MAC_RESET_PIN_PDU", "The card refused the PIN reset command."},
    [5] = {"STATUS_ERROR_MAC_CERT_PDU", "The card refused to store a certificate."},
    [6] = {"STATUS_ERROR_MAC_LIFECYCLE_PDU", "The card refused to change its life-cycle state."},
    [7] = {"STATUS_ERROR_MAC_ENROLL_PDU", "The card could not be enrolled."},
    [8] = {"STATUS_ERROR_CANNOT_PERFORM_OPERATION",
           "The token server cannot perform this operation on this card."},
    [9] = {"STATUS_ERROR_BAD_STATUS", "The card answered with an error status."},
    [10] = {"STATUS_ERROR_CA_RESPONSE", "The certificate authority refused the request."},
    [11] = {"STATUS_ERROR_READ_BUFFER_OVERFLOW", "The card returned more data than expected."},
    [12] = {"STATUS_ERROR_TOKEN_RESET_PIN_FAILED", "The card could not set the new PIN."},
    [13] = {"STATUS_ERROR_CONNECTION", "The token server lost its connection to a back end."},
    [14] = {"STATUS_ERROR_LOGIN", "The directory rejected the user ID or password."},
    [15] = {"STATUS_ERROR_DB", "The token server's database failed."},
    [16] = {"STATUS_ERROR_UNKNOWN_TOKEN", "The token server does not know this card."},
    [17] = {"STATUS_ERROR_SECURE_CHANNEL", "The secure channel to the card failed."},
    [18] = {"STATUS_ERROR_MISCONFIGURATION", "The token server is misconfigured."},
    [19] = {"STATUS_ERROR_UPGRADE_APPLET", "The applet on the card could not be installed."},
    [20] = {"STATUS_ERROR_KEY_CHANGE_OVER", "The card's keys could not be changed."},
    [21] = {"STATUS_ERROR_EXTERNAL_AUTH", "The card did not authenticate the token server."},
    [22] = {"STATUS_ERROR_MAPPING_RESOLVER_FAILED",
            "The token server could not decide which profile applies to this card."},
    [23] = {"STATUS_ERROR_MAPPING_RESOLVER_PARAMS_NOT_FOUND",
            "The token server could not decide which profile applies to this card."},
    [24] = {"STATUS_ERROR_PUBLISH", "The certificates could not be published."},
    [25] = {"STATUS_ERROR_LDAP_CONN", "The token server could not reach the directory."},
    [26] = {"STATUS_ERROR_DISABLED_TOKEN", "This card is disabled on the token server."},
    [27] = {"STATUS_ERROR_NOT_PIN_RESETABLE", "The PIN of this card may not be reset."},
    [28] = {"STATUS_ERROR_CONN_LOST", "The connection to the token server was lost."},
    [29] = {"STATUS_ERROR_CREATE_TUS_TOKEN_ENTRY", "The token server could not record this card."},
    [30] = {"STATUS_ERROR_NO_SUCH_TOKEN_STATE", "The card is in a state the server does not know."},
    [31] = {"STATUS_ERROR_NO_SUCH_LOST_REASON", "The card's lost reason is not known."},
    [32] = {"STATUS_ERROR_UNUSABLE_TOKEN_KEYCOMPROMISE",
            "This card was reported compromised and cannot be used."},
    [33] = {"STATUS_ERROR_INACTIVE_TOKEN_NOT_FOUND", "No inactive card was found for this user."},
    [34] = {"STATUS_ERROR_HAS_AT_LEAST_ONE_ACTIVE_TOKEN", "This user already has an active card."},
    [35] = {"STATUS_ERROR_TOKEN_TERMINATED", "This card has been terminated."},
    [36] = {"STATUS_RECOVERY_IS_PROCESSED", "The keys were recovered."},
    [37] = {"STATUS_ERROR_RECOVERY_FAILED", "Key recovery or certificate renewal failed."},
    [38] = {"STATUS_ERROR_NO_OPERATION_ON_LOST_TOKEN", "This card was reported lost."},
    [39] = {"STATUS_ERROR_KEY_ARCHIVE_OFF", "Key archival is turned off on the server."},
    [40] = {"STATUS_ERROR_NO_TKS_CONNID", "The token server has no key service configured."},
    [41] = {"STATUS_ERROR_UPDATE_TOKENDB_FAILED", "The token server could not update its records."},
    [42] = {"STATUS_ERROR_REVOKE_CERTIFICATES_FAILED",
            "The old certificates could not be revoked."},
    [43] = {"STATUS_ERROR_NOT_TOKEN_OWNER", "This card belongs to another user."},
    [44] = {"STATUS_RENEWAL_IS_PROCESSED", "The certificates were renewed."},
    [45] = {"STATUS_ERROR_CANNOT_ESTABLISH_COMMUNICATION",
            "The token server could not communicate with the card."},
    [46] = {"STATUS_ERROR_SYMKEY_256_UPGRADE", "The card's keys could not be upgraded."},
};

const char *tps_status_name(int code)
{
    if (code < 0 || code > TPS_STATUS_MAX)
        return "STATUS_UNKNOWN";
    return status_tab[code].name;
}

const char *tps_status_sentence(int code)
{
    if (code < 0 || code > TPS_STATUS_MAX)
        return "The token server reported an unknown error.";
    return status_tab[code].sentence;
}

/* ---- encoder -------------------------------------------------------------------------- */

static const char hexdig[] = "0123456789ABCDEF";

static bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static void put(struct tps_enc *e, const char *s, size_t n)
{
    if (e->err)
        return;
    if (n > TPS_MSG_MAX - e->len) {
        e->err = true;
        return;
    }
    memcpy(e->buf + ENC_AT + e->len, s, n);
    e->len += n;
    e->buf[ENC_AT + e->len] = '\0';
}

static void put_pct(struct tps_enc *e, unsigned char c)
{
    char h[3] = {'%', hexdig[c >> 4], hexdig[c & 15]};
    put(e, h, 3);
}

/* Encode one byte of text in the given style. */
static void put_text_byte(struct tps_enc *e, unsigned char c, enum tps_text_style style)
{
    if (is_alnum(c) || (style == TPS_TEXT_JAVA && (c == '.' || c == '-' || c == '*' || c == '_'))) {
        char ch = (char)c;
        put(e, &ch, 1);
    } else if (c == ' ') {
        put(e, "+", 1);
    } else {
        put_pct(e, c);
    }
}

/* Characters a key may not hold (the separators, and what a decoder would change). */
static const unsigned char key_bad[256] = {['&'] = 1, ['='] = 1, ['%'] = 1, ['+'] = 1, [' '] = 1};

static void put_key(struct tps_enc *e, const char *key)
{
    /* Keys are ours (fixed protocol names, or TPS-given parameter ids, §5): they must be
     * non-empty and free of the separators. Checked and copied in one pass ("&key="). */
    if (e->err)
        return;
    if (!key || !*key) {
        e->err = true;
        return;
    }
    size_t room = TPS_MSG_MAX - e->len, k = 1;
    char *o = e->buf + ENC_AT + e->len;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++, k++)
        if (key_bad[*p] || k + 1 >= room) { /* "=" must fit after it */
            explicit_bzero(o, k + 1);       /* what was copied is dropped */
            e->err = true;
            return;
        } else {
            o[k] = (char)*p;
        }
    o[0] = '&';
    o[k] = '=';
    o[k + 1] = '\0';
    e->len += k + 1;
}

/* value in decimal in out[24] (no NUL); returns the length (snprintf was a tenth of the
 * agent's instructions per relayed APDU: three numbers a message) */
static size_t decimal_any(long value, char out[24])
{
    unsigned long v = value < 0 ? 0UL - (unsigned long)value : (unsigned long)value;
    char rev[24];
    size_t n = 0, o = 0;
    do
        rev[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    if (value < 0)
        out[o++] = '-';
    while (n)
        out[o++] = rev[--n];
    return o;
}

static inline size_t decimal(long value, char out[24])
{
    if (value >= 0 && value < 100) { /* msg_type, pdu_size, most lengths: inline */
        size_t o = 0;
        if (value >= 10)
            out[o++] = (char)('0' + value / 10);
        out[o++] = (char)('0' + value % 10);
        return o;
    }
    return decimal_any(value, out);
}

void tps_enc_init(struct tps_enc *e, int msg_type)
{
    char num[24];
    e->len = 0;
    e->err = false;
    e->buf[ENC_AT] = '\0';
    if (msg_type < 0) {
        e->err = true;
        return;
    }
    size_t n = decimal(msg_type, num); /* 20 digits at most: room enough */
    memcpy(e->buf + ENC_AT, "msg_type=", 9);
    memcpy(e->buf + ENC_AT + 9, num, n);
    e->len = 9 + n;
    e->buf[ENC_AT + e->len] = '\0';
}

void tps_enc_int(struct tps_enc *e, const char *key, long value)
{
    char num[24];
    size_t n = decimal(value, num);
    put_key(e, key);
    put(e, num, n);
}

void tps_enc_text(struct tps_enc *e, const char *key, const char *text, enum tps_text_style style)
{
    put_key(e, key);
    if (!text) {
        e->err = true;
        return;
    }
    for (const unsigned char *p = (const unsigned char *)text; *p && !e->err; p++)
        put_text_byte(e, *p, style);
}

void tps_enc_bytes(struct tps_enc *e, const char *key, const void *data, size_t len)
{
    const unsigned char *p = data;
    put_key(e, key);
    if (e->err)
        return;
    if ((len && !p) || len > (TPS_MSG_MAX - e->len) / 3) {
        e->err = true;
        return;
    }
    /* the bound checked once for the whole value (per byte, it was a tenth of the
     * instructions per relayed APDU) */
    char *o = e->buf + ENC_AT + e->len;
    for (size_t i = 0; i < len; i++, o += 3) {
        o[0] = '%';
        o[1] = hexdig[p[i] >> 4];
        o[2] = hexdig[p[i] & 15];
    }
    *o = '\0';
    e->len += 3 * len;
}

void tps_enc_pdu(struct tps_enc *e, int msg_type, const void *data, size_t len)
{
    /* the fixed parts copied, not checked key by key: tps_enc_init + tps_enc_int +
     * tps_enc_bytes were an eighth of the agent's instructions per relayed APDU */
    char num[24];
    size_t n;
    if (msg_type >= 0 && msg_type < 100) { /* what tps_enc_init writes, without the call */
        e->err = false;
        memcpy(e->buf + ENC_AT, "msg_type=", 9);
        e->len = 9 + decimal(msg_type, e->buf + ENC_AT + 9);
    } else {
        tps_enc_init(e, msg_type);
        if (e->err)
            return;
    }
    n = decimal(len <= TPS_MSG_MAX ? (long)len : 0, num);
    if ((len && !data) || len > TPS_MSG_MAX || 20 + n + 3 * len > TPS_MSG_MAX - e->len) {
        e->err = true; /* the same bound as tps_enc_int + tps_enc_bytes */
        return;
    }
    char *o = e->buf + ENC_AT + e->len;
    memcpy(o, "&pdu_size=", 10);
    o += 10;
    memcpy(o, num, n);
    o += n;
    memcpy(o, "&pdu_data=", 10);
    o += 10;
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++, o += 3) {
        o[0] = '%';
        o[1] = hexdig[p[i] >> 4];
        o[2] = hexdig[p[i] & 15];
    }
    *o = '\0';
    e->len = (size_t)(o - (e->buf + ENC_AT));
}

void tps_enc_raw(struct tps_enc *e, const char *key, const char *value)
{
    put_key(e, key);
    if (!value || strpbrk(value, "&=%")) {
        e->err = true;
        return;
    }
    put(e, value, strlen(value));
}

void tps_enc_kvlist(struct tps_enc *e, const char *key, const struct tps_kv *kv, size_t n,
                    enum tps_text_style style)
{
    put_key(e, key);
    for (size_t i = 0; i < n && !e->err; i++) {
        if (!kv[i].key || !*kv[i].key || !kv[i].value || !*kv[i].value ||
            strpbrk(kv[i].key, "&=") || strpbrk(kv[i].value, "&=")) {
            e->err = true;
            return;
        }
        if (i)
            put_text_byte(e, '&', style);
        for (const unsigned char *p = (const unsigned char *)kv[i].key; *p; p++)
            put_text_byte(e, *p, style);
        put_text_byte(e, '=', style);
        for (const unsigned char *p = (const unsigned char *)kv[i].value; *p; p++)
            put_text_byte(e, *p, style);
    }
}

const char *tps_enc_frame(struct tps_enc *e, size_t *len)
{
    char num[24];
    if (e->err || e->len > TPS_MSG_MAX)
        return NULL;
    size_t digits = decimal((long)e->len, num), n = digits + 3; /* "s=" digits "&" */
    char *start = e->buf + ENC_AT - n; /* n <= PREFIX: len <= 9999; TPS_ENC_HEAD bytes before */
    memcpy(start, "s=", 2);
    memcpy(start + 2, num, digits);
    start[n - 1] = '&';
    if (len)
        *len = n + e->len;
    return start;
}

const char *tps_enc_payload(const struct tps_enc *e, size_t *len)
{
    if (e->err)
        return NULL;
    if (len)
        *len = e->len;
    return e->buf + ENC_AT;
}

void tps_enc_wipe(struct tps_enc *e)
{
    /* only what was written: the prefix, the payload and its NUL (a whole-structure wipe was
     * 10 KB per message, most of the agent's instructions per relayed APDU) */
    size_t n = e->len <= TPS_MSG_MAX ? ENC_AT + e->len + 1 + TPS_ENC_TAIL : sizeof e->buf;
    explicit_bzero(e->buf, n);
    e->len = 0;
    e->err = false;
}

/* ---- decoder -------------------------------------------------------------------------- */

/* hex digit value + 1 by character, 0: not a hex digit (a table: the %XX of every PDU byte
 * is decoded here, two calls per byte were a seventh of the agent's instructions per APDU) */
static const unsigned char hexv1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/* An escape's two digits: the high one's value << 4, the low one's value, each with bit 8 set
 * when it is a hex digit (0: not one). A run of escapes is decoded with no test per digit:
 * the AND of every looked-up entry keeps bit 8 only if all were digits, checked once after the
 * run; the byte is the OR of the two entries, truncated. (One structure: one base address.) */
#define HI(c, v) [c] = 0x100 | (v) << 4
#define LO(c, v) [c] = 0x100 | (v)
#define HEX16(X)                                                                                   \
    X('0', 0), X('1', 1), X('2', 2), X('3', 3), X('4', 4), X('5', 5), X('6', 6), X('7', 7),        \
        X('8', 8), X('9', 9), X('A', 10), X('B', 11), X('C', 12), X('D', 13), X('E', 14),          \
        X('F', 15), X('a', 10), X('b', 11), X('c', 12), X('d', 13), X('e', 14), X('f', 15)
static const struct {
    uint16_t hi[256], lo[256];
} hx = {{HEX16(HI)}, {HEX16(LO)}};
#undef HEX16
#undef LO
#undef HI

int tps_hexval(unsigned char c)
{
    return (int)hexv1[c] - 1;
}

/* The decoder's view of a character: C_LIT copied as it is; in a decoded message '+' is a
 * space and '%' starts an escape; '=' ends a key, '&' a pair. NUL is literal, but refused in a
 * key. (One pass over the message with this table: splitting first with memchr and decoding
 * each part after was a third of the agent's instructions per relayed APDU.) */
enum { C_LIT, C_NUL, C_PCT, C_PLUS, C_EQ, C_AMP };
static const unsigned char cls_dec[256] = {
    [0] = C_NUL, ['%'] = C_PCT, ['+'] = C_PLUS, ['='] = C_EQ, ['&'] = C_AMP};
static const unsigned char cls_lit[256] = {[0] = C_NUL, ['='] = C_EQ, ['&'] = C_AMP};

/* True when none of the 8 bytes at p can end or change a key (`key`) or a value, checked a
 * word at a time (keys such as "pdu_data" are 8 bytes): no byte below '0' (every separator,
 * '%', '+', NUL and the space are) and, in a key, no '='. (x - n*0x01..01) & ~x & 0x80..80
 * is non-zero exactly when a byte of x is below n (n <= 0x80). Harmless bytes below '0'
 * ('-', '.', '/', a NUL in a value) only send those 8 bytes down the byte-by-byte path. */
static inline bool plain8(const unsigned char *p, bool key)
{
    const uint64_t ones = 0x0101010101010101ULL, high = ones << 7;
    uint64_t w, eq;
    memcpy(&w, p, sizeof w);
    uint64_t hit = (w - ones * '0') & ~w & high;
    if (key) {
        eq = w ^ (ones * '=');
        hit |= (eq - ones) & ~eq & high;
    }
    return hit == 0;
}

/* The escape at p (p[0] == '%'): its byte in *out, or -1 if fewer than two characters follow
 * before `end` or they are not hex ('=' and '&' are not: an escape never spans a separator). */
static inline int unescape(const unsigned char *p, const unsigned char *end, unsigned char *out)
{
    if (end - p < 3)
        return -1;
    unsigned h = hexv1[p[1]] - 1u, l = hexv1[p[2]] - 1u; /* not hex: wrapped above 15 */
    if ((h | l) > 15)
        return -1;
    *out = (unsigned char)(h << 4 | l);
    return 0;
}

/* Split s[0..len) on '&' then '=' and store each pair, decoded if asked, in one pass. Pairs
 * without '=' or with an empty key are skipped whatever they hold; a kept pair's bad escape, a
 * NUL in its key or a 65th kept pair fail. Every byte written lands in m->store below
 * len + 1 (a byte per input character at most: each NUL stands for the '=' or '&' it replaces,
 * one more after the last value), and m->used is the highest point reached, even on failure,
 * so that tps_msg_wipe clears all of it. Each key is written over a zeroed word, so that its
 * first 8 bytes read as one are the key zero-padded (tps_field.k8; the zeros past `used` hold
 * nothing to wipe). */
_Static_assert(TPS_MSG_MAX + PREFIX + 1 + 8 <= sizeof((struct tps_msg *)0)->store,
               "a key's zeroed word fits the store wherever the key starts");
static int split_pairs(struct tps_msg *m, const unsigned char *s, size_t len, bool decode)
{
    const unsigned char *cls = decode ? cls_dec : cls_lit;
    const unsigned char *p = s, *end = s + len;
    unsigned char *st = m->store;
    size_t o = 0, hi = 0;
    int rc = 0;
    m->n = 0;
    m->type = -1;
    if (decode && len >= 10 && memcmp(p, "msg_type=", 9) == 0 && (unsigned)(p[9] - '0') < 10) {
        /* "msg_type=<1 or 2 digits>" first, as every TPS message starts (§2): stored as the
         * loop below would store it, its number in m->type (tps_msg_decode's look-up saved) */
        size_t j = 10;
        if (j < len && (unsigned)(p[j] - '0') < 10)
            j++;
        if (j == len || p[j] == '&') {
            memcpy(st, "msg_type", 8);
            st[8] = '\0';
            memcpy(st + 9, p + 9, j - 9);
            st[j] = '\0';
            m->f[0] = (struct tps_field){.key = (const char *)st,
                                         .val = st + 9,
                                         .len = j - 9,
                                         .klen = 8,
                                         .k8 = tps_key8("msg_type", 8)};
            m->n = 1;
            m->type = j == 10 ? p[9] - '0' : (p[9] - '0') * 10 + (p[10] - '0');
            o = j + 1;
            p += j < len ? j + 1 : j;
        }
    }
    while (p < end) {
        const unsigned char *pair = p;
        size_t kpos = o;
        bool knul = false;
        memset(st + o, 0, 8); /* the key's padding for k8 */
        /* the key, up to '=' */
        while (end - p >= 8 && plain8(p, true)) { /* a word at a time */
            memcpy(st + o, p, 8);
            o += 8;
            p += 8;
            if (p != end && *p == '=') /* an 8-byte key (msg_type, pdu_data): no second look */
                break;
        }
        for (;;) {
            if (p == end)
                goto skip; /* no '=' */
            unsigned char c = *p, k = cls[c];
            if (k == C_LIT) {
                st[o++] = c;
                p++;
            } else if (k == C_EQ) {
                break;
            } else if (k == C_AMP) {
                goto skip; /* no '=' */
            } else if (k == C_PLUS) {
                st[o++] = ' ';
                p++;
            } else if (k == C_NUL) {
                st[o++] = 0;
                knul = true;
                p++;
            } else if (unescape(p, end, &st[o]) == 0) {
                knul |= st[o++] == 0;
                p += 3;
            } else {
                /* a bad escape fails a kept pair only: has this one an '='? */
                const unsigned char *amp = memchr(p, '&', (size_t)(end - p));
                if (memchr(p, '=', (size_t)((amp ? amp : end) - p))) {
                    rc = -1;
                    goto out;
                }
                goto skip;
            }
        }
        if (p == pair) /* an empty key */
            goto skip;
        if (knul || m->n >= TPS_MSG_MAX_FIELDS) {
            rc = -1;
            goto out;
        }
        st[o++] = '\0';
        p++; /* the '=' */
        size_t vpos = o;
        uint64_t k8;
        memcpy(&k8, st + kpos, sizeof k8); /* the key, zero-padded: see above */
        /* the value, up to '&' */
        while (end - p >= 8 && plain8(p, false)) {
            memcpy(st + o, p, 8);
            o += 8;
            p += 8;
        }
        while (p < end) {
            unsigned char c = *p, k = cls[c];
            if (k <= C_NUL || k == C_EQ) {
                st[o++] = c;
                p++;
            } else if (k == C_AMP) {
                break;
            } else if (k == C_PLUS) {
                st[o++] = ' ';
                p++;
            } else {
                /* a run of escapes (pdu_data is nothing else): a bad one fails the whole
                 * decode, so the digits are checked once for the run (hexhi, hexlo) */
                const unsigned char *stop = p + (size_t)(end - p) / 3 * 3; /* whole escapes */
                unsigned char *w = st + o;
                unsigned ok = 0x100;
                for (; stop - p >= 6 && p[0] == '%' && p[3] == '%'; p += 6, w += 2) { /* 2 by 2 */
                    unsigned h = hx.hi[p[1]], l = hx.lo[p[2]], h2 = hx.hi[p[4]], l2 = hx.lo[p[5]];
                    ok &= h & l & h2 & l2;
                    w[0] = (unsigned char)(h | l);
                    w[1] = (unsigned char)(h2 | l2);
                }
                if (p != stop && *p == '%') { /* an odd one */
                    unsigned h = hx.hi[p[1]], l = hx.lo[p[2]];
                    ok &= h & l;
                    *w++ = (unsigned char)(h | l);
                    p += 3;
                }
                o = (size_t)(w - st);
                if (!ok || (p < end && *p == '%')) { /* not hex, or fewer than two left */
                    rc = -1;
                    goto out;
                }
            }
        }
        struct tps_field *f = &m->f[m->n++];
        f->key = (const char *)st + kpos;
        f->val = st + vpos;
        f->len = o - vpos;
        f->klen = vpos - 1 - kpos;
        f->k8 = k8;
        st[o++] = '\0';
        if (p < end)
            p++; /* the '&' */
        continue;
    skip:
        if (o > hi)
            hi = o;
        o = kpos;
        while (p < end && *p != '&')
            p++;
        if (p < end)
            p++;
    }
out:
    m->used = o > hi ? o : hi;
    return rc;
}

int tps_msg_decode(struct tps_msg *m, const char *payload, size_t len)
{
    long t;
    if (!payload || len > TPS_MSG_MAX + PREFIX)
        goto bad;
    if (split_pairs(m, (const unsigned char *)payload, len, true) < 0)
        goto bad;
    if (m->type >= 0) /* read with the first field (split_pairs) */
        return 0;
    if (tps_msg_long(m, "msg_type", 0, 99, &t) < 0)
        goto bad;
    m->type = (int)t;
    return 0;
bad:
    m->n = 0;
    m->type = -1;
    return -1;
}

int tps_kvlist_decode(struct tps_msg *out, const unsigned char *s, size_t len)
{
    if (!s || len > TPS_MSG_MAX || split_pairs(out, s, len, false) < 0) {
        out->n = 0;
        out->type = -1;
        return -1;
    }
    return 0;
}

bool tps_key_tail_eq(const struct tps_field *f, const char *key)
{
    return memcmp(f->key + 8, key + 8, f->klen - 8) == 0;
}

const char *tps_field_str(const struct tps_field *f)
{
    if (!f || memchr(f->val, '\0', f->len))
        return NULL;
    return (const char *)f->val;
}

int tps_field_long(const struct tps_field *f, long min, long max, long *out)
{
    long v = 0;
    if (!f || f->len == 0 || f->len > 18)
        return -1;
    for (size_t i = 0; i < f->len; i++) {
        unsigned d = f->val[i] - (unsigned)'0';
        if (d > 9)
            return -1;
        v = v * 10 + (long)d;
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

void tps_msg_wipe(struct tps_msg *m)
{
    /* only what the last decode wrote (see tps_enc_wipe) */
    explicit_bzero(m->f, (m->n <= TPS_MSG_MAX_FIELDS ? m->n : TPS_MSG_MAX_FIELDS) * sizeof m->f[0]);
    explicit_bzero(m->store, m->used <= sizeof m->store ? m->used : sizeof m->store);
    m->n = 0;
    m->used = 0;
    m->type = -1;
}

/* ---- framer --------------------------------------------------------------------------- */

void tps_framer_init(struct tps_framer *f)
{
    f->have = 0;
    f->need = 0;
    f->in_body = false;
    f->broken = false;
}

bool tps_framer_pending(const struct tps_framer *f)
{
    return f->have > 0 || f->in_body;
}

/* Header byte: "s=" (first char anything, as TPSConnection.read), 1..4 digits, '&'. */
static int header_byte(struct tps_framer *f, char c)
{
    if (f->have == 0) {
        f->buf[f->have++] = c;
        return 0;
    }
    if (f->have == 1) {
        if (c != '=')
            return -1;
        f->buf[f->have++] = c;
        return 0;
    }
    if (c == '&') {
        size_t ndig = f->have - 2;
        size_t n = 0;
        if (ndig == 0)
            return -1;
        for (size_t i = 2; i < f->have; i++)
            n = n * 10 + (size_t)(f->buf[i] - '0');
        if (n > TPS_MSG_MAX)
            return -1;
        f->need = n;
        f->in_body = true;
        f->have = 0; /* the buffer now holds the payload only */
        return 0;
    }
    if (c < '0' || c > '9' || f->have - 2 >= TPS_MSG_MAX_DIGITS)
        return -1;
    f->buf[f->have++] = c;
    return 0;
}

/* The header's length when d[0..len) starts with a valid header "?=<1-4 digits>&" followed by
 * its whole payload (whose length goes to *need), else 0 (anything else, a malformed header
 * included, takes the byte-by-byte path, which says what is wrong). */
static size_t whole_header(const char *d, size_t len, size_t *need)
{
    size_t j = 2, n = 0;
    if (len < 4 || d[1] != '=')
        return 0;
    while (j < len && j < 2 + TPS_MSG_MAX_DIGITS && d[j] >= '0' && d[j] <= '9')
        n = n * 10 + (size_t)(d[j++] - '0');
    if (j == 2 || j == len || d[j] != '&' || len - j - 1 < n)
        return 0;
    *need = n; /* <= 9999: four digits at most */
    return j + 1;
}

int tps_framer_push(struct tps_framer *f, const void *data, size_t len, tps_frame_cb cb, void *ctx)
{
    const char *p = data;
    size_t i = 0;
    if (f->broken)
        return -1;
    while (i < len) {
        size_t n, need;
        if (!f->in_body && f->have == 0 && (n = whole_header(p + i, len - i, &need)) > 0) {
            /* a whole message in `data`: handed over where it is, not copied */
            int rc = cb(ctx, p + i + n, need);
            i += n + need;
            if (rc != 0)
                return rc;
            continue;
        }
        if (!f->in_body) {
            if (header_byte(f, p[i++]) < 0) {
                f->broken = true;
                return -1;
            }
        } else {
            size_t take = f->need - f->have;
            if (take > len - i)
                take = len - i;
            memcpy(f->buf + f->have, p + i, take);
            f->have += take;
            i += take;
        }
        if (f->in_body && f->have == f->need) {
            size_t plen = f->need;
            int rc;
            f->buf[plen] = '\0';
            f->in_body = false;
            f->have = 0;
            f->need = 0;
            rc = cb(ctx, f->buf, plen);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}
