/* ipc: the pam_esc <-> esc-agent hand-off protocol (design.md "The hand-off").
 *
 * One small protocol on both paths: a socketpair to the helper pam_esc starts
 * (`esc-agent --pam`), and the session agent's socket $XDG_RUNTIME_DIR/esc-agent/socket.
 *
 * Frame: type (1 byte) | version (1 byte, IPC_VERSION) | payload length (2 bytes, big endian)
 * | payload. The payload is a list of fields: tag (1 byte) | length (2 bytes, big endian) |
 * value. Each message type has its own size cap, its required fields and the only fields it
 * may carry; a frame that breaks any rule (unknown type or tag, a field twice, a field the
 * type may not carry, a missing field, a NUL or control character in a text field, a number
 * out of range, trailing bytes) is ESC_ERR_PROTOCOL. Both peers are hostile to each other.
 *
 *   pam_esc -> agent : REQUEST (op, user, reader, timeout_ms, flags), ANSWER (ok, secret)
 *   agent -> pam_esc : PROMPT_ECHO_OFF / PROMPT_ECHO_ON (text = label, id = TPS parameter),
 *                      INFO (text), ERROR (text), PROGRESS (pct, text), DONE (ok, code = esc_err,
 *                      text = one sentence, secret = the new PIN, user = the directory user ID)
 *
 * escctl uses the same protocol with the session agent: an operation is a REQUEST with
 * IPC_FLAG_NO_SECRET (DONE never carries the new PIN: a terminal has no PAM_AUTHTOK) and
 * IPC_FLAG_RAW_TASK (PROGRESS text is the TPS's own label, as escctl prints it in-process).
 * `escctl status|list` is a REQUEST with id IPC_REQ_STATUS (reader = the one reader or none,
 * timeout = the probe's): the agent probes, sends one CARD per reader (the facts of
 * common/probe.h, see ipc_card.h) and ends with DONE.
 *
 * The conversation is lock-step: the agent sends any number of INFO/ERROR/PROGRESS, then
 * either a PROMPT (and waits for one ANSWER) or DONE (and hangs up). ANSWER with ok=0 means
 * the user cancelled; a closed socket means the same. Secrets travel only in the `secret`
 * field; every buffer that held one is wiped (ipc_msg_wipe). */
#ifndef ESC_IPC_H
#define ESC_IPC_H

#include "esc_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IPC_VERSION     1
#define IPC_HEADER_LEN  4
#define IPC_PAYLOAD_MAX 2048 /* no type may exceed this */

#define IPC_TEXT_MAX   512 /* label, info, error, progress task, DONE sentence */
#define IPC_ID_MAX     32  /* TPS parameter id ("UID"), REQUEST operation ("enroll") */
#define IPC_NAME_MAX   256 /* user name, reader name */
#define IPC_SECRET_MAX 256 /* an answer, a PIN (TPS_SECRET_MAX) */

enum ipc_type {
    IPC_REQUEST = 1,
    IPC_PROMPT_ECHO_OFF,
    IPC_PROMPT_ECHO_ON,
    IPC_INFO,
    IPC_ERROR,
    IPC_PROGRESS,
    IPC_ANSWER,
    IPC_DONE,
    IPC_CARD, /* agent -> escctl: one reader's probe facts (ipc_card.h) */
    IPC_TYPE__END
};

enum ipc_tag {
    IPC_F_TEXT = 1,
    IPC_F_ID,
    IPC_F_PCT,     /* 1 byte, 0..100 */
    IPC_F_CODE,    /* 2 bytes, esc_err (< ESC_ERR__COUNT) */
    IPC_F_OK,      /* 1 byte, 0 or 1 */
    IPC_F_SECRET,  /* answer, new PIN */
    IPC_F_USER,    /* REQUEST: PAM user; DONE: directory user ID */
    IPC_F_READER,  /* REQUEST: reader name */
    IPC_F_TIMEOUT, /* 4 bytes, ms left of the hand-off deadline */
    IPC_F_FLAGS,   /* 4 bytes, IPC_FLAG_* */
    /* CARD only (ipc_card.h): the probe facts; an absent optional field means "unknown" */
    IPC_F_STATE,     /* 1 byte, enum probe_state */
    IPC_F_ATR,       /* hex */
    IPC_F_CUID,      /* hex */
    IPC_F_APPLET,    /* applet version */
    IPC_F_LIFE,      /* 1 byte, life cycle */
    IPC_F_TRIES,     /* 1 byte, PIN tries left */
    IPC_F_URL,       /* phone-home URL */
    IPC_F_NCERTS,    /* 2 bytes */
    IPC_F_NOT_AFTER, /* 8 bytes, signed seconds */
    IPC_F_SUBJECT,
    IPC_F_ISSUER,
    IPC_F_ELAPSED, /* 4 bytes, ms */
    IPC_F__END
};
#define IPC_BIT(tag) (1u << (tag))

#define IPC_FLAG_SILENT    0x1u /* PAM_SILENT: the agent may skip INFO/PROGRESS */
#define IPC_FLAG_NO_SECRET 0x2u /* escctl: DONE carries no new PIN */
#define IPC_FLAG_RAW_TASK  0x4u /* escctl: PROGRESS text is the TPS's label, not a phrase */

#define IPC_REQ_STATUS "status" /* REQUEST id of escctl status / list */

#define IPC_ATR_HEX_MAX  66 /* 2 * PCSC_ATR_MAX */
#define IPC_CUID_HEX_MAX 20
#define IPC_APPLET_MAX   31
#define IPC_URL_MAX      224 /* CK_ISSUER_INFO_LEN */
#define IPC_DN_MAX       255

struct ipc_msg {
    enum ipc_type type;
    uint32_t present; /* IPC_BIT(tag) for each field carried */
    char text[IPC_TEXT_MAX + 1];
    char id[IPC_ID_MAX + 1];
    char user[IPC_NAME_MAX + 1];
    char reader[IPC_NAME_MAX + 1];
    char secret[IPC_SECRET_MAX + 1];
    uint8_t pct;
    bool ok;
    uint16_t code;
    uint32_t timeout_ms;
    uint32_t flags;
    /* CARD */
    uint8_t state, life, tries;
    uint16_t ncerts;
    uint32_t elapsed_ms;
    int64_t not_after;
    char atr[IPC_ATR_HEX_MAX + 1];
    char cuid[IPC_CUID_HEX_MAX + 1];
    char applet[IPC_APPLET_MAX + 1];
    char url[IPC_URL_MAX + 1];
    char subject[IPC_DN_MAX + 1];
    char issuer[IPC_DN_MAX + 1];
};

/* Empty message of this type (no field). */
void ipc_msg_init(struct ipc_msg *m, enum ipc_type type);
/* Wipe the whole message (it may hold a secret). */
void ipc_msg_wipe(struct ipc_msg *m);

/* Set a string field (IPC_F_TEXT, _ID, _USER, _READER, _SECRET, and CARD's strings). Display fields
 * have control characters replaced by spaces; a value too long is cut at the cap (ESC_ERR_TOO_BIG
 * is returned, the field is still set). */
esc_err ipc_set_str(struct ipc_msg *m, enum ipc_tag tag, const char *s);
/* Set a number field (IPC_F_PCT, _CODE, _OK, _TIMEOUT, _FLAGS, and CARD's numbers); out of
 * range: ESC_ERR_ARG. IPC_F_NOT_AFTER is set with ipc_set_time. */
esc_err ipc_set_num(struct ipc_msg *m, enum ipc_tag tag, uint32_t v);
esc_err ipc_set_time(struct ipc_msg *m, enum ipc_tag tag, int64_t v);
static inline bool ipc_has(const struct ipc_msg *m, enum ipc_tag tag)
{
    return (m->present & IPC_BIT(tag)) != 0;
}

/* Encode into buf (header included). ESC_ERR_ARG if the message itself breaks the rules. */
esc_err ipc_encode(const struct ipc_msg *m, uint8_t *buf, size_t cap, size_t *len);
/* Length of the frame whose 4-byte header is hdr, or ESC_ERR_PROTOCOL (bad type, version,
 * length over the type's cap). */
esc_err ipc_frame_len(const uint8_t hdr[IPC_HEADER_LEN], size_t *frame_len);
/* Decode exactly one frame (header included, len = its whole length). */
esc_err ipc_decode(const uint8_t *buf, size_t len, struct ipc_msg *m);

/* Monotonic clock in ms: deadlines below are absolute values of it. */
long ipc_now_ms(void);
/* Milliseconds left until deadline, 0 if passed, capped to INT_MAX (for poll()). */
int ipc_ms_left(long deadline_ms);

/* Send / receive one message on a stream socket before the deadline. send() uses
 * MSG_NOSIGNAL (no SIGPIPE). ESC_ERR_TIMEOUT, ESC_ERR_IO (peer gone / socket error),
 * ESC_ERR_PROTOCOL (bad frame). Buffers that held the frame are wiped. */
esc_err ipc_send(int fd, const struct ipc_msg *m, long deadline_ms);
esc_err ipc_recv(int fd, struct ipc_msg *m, long deadline_ms);

/* Session socket: $XDG_RUNTIME_DIR/esc-agent/socket. */
#define IPC_SESSION_DIR  "esc-agent"
#define IPC_SESSION_SOCK "socket"
/* The socket path under runtime_dir into out; ESC_ERR_TOO_BIG if it does not fit. */
esc_err ipc_session_path(const char *runtime_dir, char *out, size_t cap);
/* Connect to the session agent of `uid`: the directory must be a real directory (not a
 * link) owned by uid with mode 0700, and the peer (SO_PEERCRED) must run as uid. Non-blocking
 * connect bounded by the deadline. *fd is SOCK_CLOEXEC. ESC_ERR_AGENT_UNAVAILABLE if there is
 * no agent; ESC_ERR_PROTOCOL if ownership or mode is wrong. */
esc_err ipc_session_connect(const char *runtime_dir, uid_t uid, long deadline_ms, int *fd);
/* Agent side: create the directory (0700) and listen on the socket (an old socket file is
 * replaced). *fd is SOCK_CLOEXEC. */
esc_err ipc_session_listen(const char *runtime_dir, int *fd);
/* The listening socket systemd hands over (socket activation, the sd_listen_fds(3) protocol
 * without libsystemd; the session daemon hands its socket to its server the same way):
 * exactly one, on fd 3, meant for this process (LISTEN_PID), a listening AF_UNIX stream socket.
 * The LISTEN_* variables are removed (not for the programs we start) and fd 3 is made
 * close-on-exec. Returns 3, -1 when not socket-activated, or -2 with one sentence in err when
 * what was passed is not such a socket. */
int ipc_activated_listener(char *err, size_t errcap);
/* uid of the peer of a connected AF_UNIX socket. */
esc_err ipc_peer_uid(int fd, uid_t *uid);

const char *ipc_type_name(enum ipc_type t);

#endif
