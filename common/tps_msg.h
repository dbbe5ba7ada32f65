/* tps_msg: the Dogtag TPS <-> client message codec (reference/tps-protocol.md §2-§6).
 *
 * Used by both ends: the agent (client) and the reference TPS (tests/tps, server).
 * No allocation: every structure is a bounded value the caller owns.
 *
 * Wire form: "s=<N>&<payload>", payload = "msg_type=<T>&k1=v1&k2=v2...", N = byte length of
 * the payload, N <= 9999 (tps.connection.maxMessageSize).
 *
 *  - encoder: msg_type first, then fields in the order they are added. PDU bytes: every byte
 *    %XX uppercase (Util.uriEncodeInHex). Text: ESC style (alnum kept, ' ' -> '+', all else
 *    %XX uppercase) or Java URLEncoder style (alnum and ".-*_" kept, ' ' -> '+').
 *  - decoder: split on '&' and '=' (an escape never hides a separator), '+' -> ' ', %XX ->
 *    byte, other chars literal, in one pass; any field order; pairs without '=' skipped;
 *    values may be binary (lengths kept, and each value is also NUL-terminated for
 *    convenience).
 *  - framer: extracts complete "s=<N>&<N bytes>" messages from a byte stream cut anywhere,
 *    several messages per push.
 */
#ifndef ESC_TPS_MSG_H
#define ESC_TPS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TPS_MSG_MAX        9999              /* largest payload N (Dogtag default maxMessageSize) */
#define TPS_MSG_MAX_DIGITS 4                 /* digits of TPS_MSG_MAX */
#define TPS_MSG_MAX_FIELDS 64                /* fields kept by the decoder; more -> malformed */
#define TPS_FRAME_MAX      (TPS_MSG_MAX + 7) /* "s=9999&" + payload */

/* §2.2 message types */
enum tps_msg_type {
    TPS_MSG_BEGIN_OP = 2,
    TPS_MSG_LOGIN_REQUEST = 3,
    TPS_MSG_LOGIN_RESPONSE = 4,
    TPS_MSG_SECUREID_REQUEST = 5,
    TPS_MSG_SECUREID_RESPONSE = 6,
    TPS_MSG_ASQ_REQUEST = 7,
    TPS_MSG_ASQ_RESPONSE = 8,
    TPS_MSG_TOKEN_PDU_REQUEST = 9,
    TPS_MSG_TOKEN_PDU_RESPONSE = 10,
    TPS_MSG_NEW_PIN_REQUEST = 11,
    TPS_MSG_NEW_PIN_RESPONSE = 12,
    TPS_MSG_END_OP = 13,
    TPS_MSG_STATUS_UPDATE_REQUEST = 14,
    TPS_MSG_STATUS_UPDATE_RESPONSE = 15,
    TPS_MSG_EXTENDED_LOGIN_REQUEST = 16,
    TPS_MSG_EXTENDED_LOGIN_RESPONSE = 17,
};

/* §2.3 operation codes */
enum tps_op {
    TPS_OP_ENROLL = 1,
    TPS_OP_UNBLOCK = 2,
    TPS_OP_RESET_PIN = 3,
    TPS_OP_RENEW = 4,
    TPS_OP_FORMAT = 5,
};

/* §4 END_OP: result field and the message (status) codes this project names. */
#define TPS_RESULT_GOOD  0
#define TPS_RESULT_ERROR 1
enum tps_status {
    TPS_STATUS_NO_ERROR = 0,
    TPS_STATUS_ERROR_SNAC = 1,
    TPS_STATUS_ERROR_MAC_ENROLL_PDU = 7,
    TPS_STATUS_ERROR_CANNOT_PERFORM_OPERATION = 8,
    TPS_STATUS_ERROR_CONNECTION = 13,
    TPS_STATUS_ERROR_LOGIN = 14,
    TPS_STATUS_ERROR_UNKNOWN_TOKEN = 16,
    TPS_STATUS_ERROR_DISABLED_TOKEN = 26,
    TPS_STATUS_ERROR_NOT_PIN_RESETABLE = 27,
    TPS_STATUS_ERROR_CONN_LOST = 28,
    TPS_STATUS_RECOVERY_IS_PROCESSED = 36, /* not an error: keys recovered (enroll) */
    TPS_STATUS_RENEWAL_IS_PROCESSED = 44,  /* not an error: certificates renewed (enroll) */
    TPS_STATUS_MAX = 46,                   /* highest code in EndOpMsg.TPSStatus */
};

/* ---- names ---------------------------------------------------------------------------- */

/* "BEGIN_OP", ...; "UNKNOWN" for anything else. */
const char *tps_msg_type_name(int type);
/* "enroll", "unblock", "reset-pin", "renew", "format"; "unknown" otherwise. */
const char *tps_op_name(int op);
/* "STATUS_ERROR_LOGIN", ... (EndOpMsg.TPSStatus); "STATUS_UNKNOWN" otherwise. */
const char *tps_status_name(int code);
/* One clear sentence for the user, e.g. 14 -> "The directory rejected the user ID or
 * password."; a generic sentence for codes without one. Never NULL. */
const char *tps_status_sentence(int code);

/* ---- encoder -------------------------------------------------------------------------- */

enum tps_text_style {
    TPS_TEXT_ESC,  /* alnum kept, ' ' -> '+', everything else %XX (ESC, CoolKey_Message.cpp) */
    TPS_TEXT_JAVA, /* alnum and ".-*_" kept, ' ' -> '+', rest %XX (java.net.URLEncoder) */
};

/* Room around a framed message for a transport's own framing: TPS_ENC_HEAD bytes before
 * tps_enc_frame()'s pointer and TPS_ENC_TAIL bytes after its end (its NUL included) are the
 * caller's to write (tps_conv puts the HTTP chunk's size line and CRLF there, so that the
 * answer is sent where it was encoded); tps_enc_wipe() clears them too. */
#define TPS_ENC_HEAD 6 /* "270f\r\n": a chunk size line for TPS_FRAME_MAX */
#define TPS_ENC_TAIL 2

/* A message under construction. The payload is written after a reserved prefix so that
 * tps_enc_frame() can put "s=<N>&" in front without copying. Any overflow (payload > 9999)
 * or bad argument sets `err`; later calls do nothing and tps_enc_frame() returns NULL. */
struct tps_enc {
    char buf[TPS_ENC_HEAD + TPS_FRAME_MAX + 1 + TPS_ENC_TAIL];
    size_t len; /* payload bytes written at buf + 7 */
    bool err;
};

void tps_enc_init(struct tps_enc *e, int msg_type);
/* key=<decimal> */
void tps_enc_int(struct tps_enc *e, const char *key, long value);
/* key=<text %-encoded in the given style>; NUL-terminated text. */
void tps_enc_text(struct tps_enc *e, const char *key, const char *text, enum tps_text_style style);
/* key=<every byte %XX uppercase> (pdu_data). */
void tps_enc_bytes(struct tps_enc *e, const char *key, const void *data, size_t len);
/* tps_enc_init(msg_type), then pdu_size=<len> and pdu_data=<every byte %XX> (ESC's order,
 * §2.2): a TOKEN_PDU_REQUEST or TOKEN_PDU_RESPONSE whole, byte for byte what those three
 * calls write, at a fraction of the cost (one per relayed APDU). */
void tps_enc_pdu(struct tps_enc *e, int msg_type, const void *data, size_t len);
/* key=<value copied verbatim>; the value must not contain '&' (used for NEW_PIN_RESPONSE's
 * new_pin, which the Java TPS takes raw, §2.2). Sets err if value contains '&', '=' or '%'. */
void tps_enc_raw(struct tps_enc *e, const char *key, const char *value);

/* One pair of a nested k=v&k=v list (BEGIN_OP extensions, required_parameterN). */
struct tps_kv {
    const char *key;
    const char *value;
};
/* key=<"k1=v1&k2=v2..." encoded as a whole in `style`> (§3). Keys and values must be
 * non-empty and contain neither '&' nor '='; else err. No trailing '&' is emitted. */
void tps_enc_kvlist(struct tps_enc *e, const char *key, const struct tps_kv *kv, size_t n,
                    enum tps_text_style style);

/* The framed message "s=<N>&<payload>" (NUL-terminated) and its length, or NULL after an
 * error. The pointer is into `e`; valid until the next call on `e`. */
const char *tps_enc_frame(struct tps_enc *e, size_t *len);
/* The payload alone (without "s=<N>&"), or NULL after an error. */
const char *tps_enc_payload(const struct tps_enc *e, size_t *len);
/* explicit_bzero what was written since tps_enc_init (it may have held a password or PIN);
 * the encoder is left empty. */
void tps_enc_wipe(struct tps_enc *e);

/* ---- decoder -------------------------------------------------------------------------- */

struct tps_field {
    const char *key;          /* decoded, NUL-terminated */
    const unsigned char *val; /* decoded, NUL-terminated, may contain NULs */
    size_t len;               /* decoded byte count of val */
    size_t klen;              /* decoded byte count of key */
    uint64_t k8;              /* the key's first 8 bytes, zero after its end (tps_key8) */
};

/* A decoded message (or a decoded nested k=v list, then type = -1). Pointers refer to
 * `store`: the structure may not be copied by value while in use. */
struct tps_msg {
    int type; /* msg_type, or -1 */
    size_t n;
    struct tps_field f[TPS_MSG_MAX_FIELDS];
    unsigned char store[TPS_FRAME_MAX + 2 * TPS_MSG_MAX_FIELDS + 2];
    size_t used; /* store bytes the last decode wrote: what tps_msg_wipe clears */
};

/* Decode a payload ("msg_type=..&.."; a leading "s=<N>&" pair is accepted and ignored).
 * Fails (-1) on: more than TPS_MSG_MAX bytes, no msg_type or a msg_type that is not a number
 * in 0..99, a bad %-escape, more than TPS_MSG_MAX_FIELDS pairs, an empty key. 0 on success. */
int tps_msg_decode(struct tps_msg *m, const char *payload, size_t len);

/* Split a nested list "k=v&k=v[&]" (the already-decoded value of `extensions` or of a
 * required_parameterN) into `out` (type = -1). Values are taken literally (no second
 * %-decoding, as Java decodeToMap); a trailing '&' (ESC's %26) and empty pairs are skipped.
 * 0 on success, -1 if malformed. */
int tps_kvlist_decode(struct tps_msg *out, const unsigned char *s, size_t len);

/* f's key past its first 8 bytes equals key's (f->klen > 8, key as long: tps_msg_get). */
bool tps_key_tail_eq(const struct tps_field *f, const char *key);
/* The field's value as a string, or NULL when f is NULL or the value holds a NUL byte. */
const char *tps_field_str(const struct tps_field *f);
/* The field's value as a decimal integer in [min, max] (digits only); 0 ok, -1 otherwise
 * (f NULL included). */
int tps_field_long(const struct tps_field *f, long min, long max, long *out);

/* A key's first 8 bytes as one word, zero-padded: a look-up compares it before anything else
 * (inlined with a literal key, strlen and this fold to constants: the name look-ups of every
 * relayed APDU were a tenth of the agent's instructions when they went through strcmp). */
static inline uint64_t tps_key8(const char *key, size_t klen)
{
    uint64_t k = 0;
    memcpy(&k, key, klen < 8 ? klen : 8);
    return k;
}

/* The first field named `key`, or NULL. The first 8 bytes and the length are compared as two
 * words; only a longer key's tail goes further. */
static inline const struct tps_field *tps_msg_get(const struct tps_msg *m, const char *key)
{
    size_t klen = strlen(key);
    uint64_t k8 = tps_key8(key, klen);
    for (size_t i = 0; i < m->n; i++)
        if (m->f[i].k8 == k8 && m->f[i].klen == klen &&
            (klen <= 8 || tps_key_tail_eq(&m->f[i], key)))
            return &m->f[i];
    return NULL;
}
/* The value of `key` as a string, or NULL when absent or when it holds a NUL byte. */
static inline const char *tps_msg_str(const struct tps_msg *m, const char *key)
{
    return tps_field_str(tps_msg_get(m, key));
}
/* The value of `key` as a decimal integer in [min, max] (digits only); 0 ok, -1 otherwise. */
static inline int tps_msg_long(const struct tps_msg *m, const char *key, long min, long max,
                               long *out)
{
    return tps_field_long(tps_msg_get(m, key), min, max, out);
}
/* explicit_bzero what the last decode wrote (the fields and the store bytes used). */
void tps_msg_wipe(struct tps_msg *m);

/* ---- framer --------------------------------------------------------------------------- */

/* Called once per complete message with its payload (the bytes after "s=<N>&"): in `data`
 * itself when the whole message was there (not NUL-terminated then), else in the framer's
 * buffer (NUL-terminated); the caller wipes whichever held a secret.
 * Return 0 to go on, anything else to stop: tps_framer_push() then returns that value. */
typedef int (*tps_frame_cb)(void *ctx, const char *payload, size_t len);

struct tps_framer {
    char buf[TPS_FRAME_MAX + 1]; /* the message being assembled */
    size_t have;                 /* bytes in buf */
    size_t need;                 /* payload length once the header is complete, else 0 */
    bool in_body;
    bool broken; /* a framing error was seen: every later push fails */
};

void tps_framer_init(struct tps_framer *f);
/* Feed `len` bytes (any cut). Calls cb for each complete message, in order.
 * Returns 0 when all bytes were consumed, -1 on a framing error (first char anything,
 * second not '=', N with a non-digit, more than 4 digits, no digit, or N > 9999; the framer
 * stays broken), or the callback's non-zero value (the rest of this push is dropped). */
int tps_framer_push(struct tps_framer *f, const void *data, size_t len, tps_frame_cb cb, void *ctx);
/* True when a message has been started but not completed (bytes are pending). */
bool tps_framer_pending(const struct tps_framer *f);

/* The value of one hex digit (either case), or -1. */
int tps_hexval(unsigned char c);

#endif
