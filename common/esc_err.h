/* esc_err: the one project-wide error enum, with one sentence per code.
 *
 * Every layer (card transport, applet client, probe, config, the agent's engine: trust,
 * phone home, the TPS conversation and operation, op_stop; pam_esc) returns an esc_err; no
 * part has a result enum of its own. A user sees esc_strerror() of it, never a number.
 * The detail (which host, file, TPS status: one sentence that says what failed) travels beside
 * it, in the caller's buffer (`char *err, size_t errlen`, written with esc_seterr) or in a
 * result's `sentence`, and is written once, where the failure is seen.
 * esc_err_class() groups codes so pam_esc can map them to PAM return codes in one
 * switch without common/ knowing PAM (see style.md, SSSD's util_errors); escctl maps them to
 * its documented exit codes in one switch (escctl_exit_code). */
#ifndef ESC_ERR_H
#define ESC_ERR_H

#include <stddef.h>

typedef enum esc_err {
    ESC_OK = 0,
    /* local resources, arguments, config */
    ESC_ERR_NOMEM,        /* out of memory */
    ESC_ERR_ARG,          /* invalid argument (a programming error) */
    ESC_ERR_IO,           /* file or socket I/O failed */
    ESC_ERR_TIMEOUT,      /* an operation did not finish before its deadline */
    ESC_ERR_CONF,         /* esc.conf has a syntax error or a bad value */
    ESC_ERR_CONF_MISSING, /* the configuration file named explicitly does not exist */
    ESC_ERR_INTERNAL,     /* should not happen */
    /* PC/SC transport: nothing to talk to */
    ESC_ERR_NO_PCSCD,     /* the PC/SC daemon is not running */
    ESC_ERR_PCSCD_HUNG,   /* the PC/SC daemon does not answer */
    ESC_ERR_NO_READER,    /* no smart-card reader is connected */
    ESC_ERR_NO_CARD,      /* no card in the reader */
    ESC_ERR_CARD_MUTE,    /* the card does not answer reset (unpowered / unsupported) */
    ESC_ERR_CARD_IN_USE,  /* another program holds the card exclusively */
    ESC_ERR_CARD_REMOVED, /* the card was removed during the operation */
    ESC_ERR_CARD_RESET,   /* the card was reset by another program during the operation */
    ESC_ERR_PCSC,         /* other PC/SC failure */
    /* what the card answered */
    ESC_ERR_CARD_SHORT,    /* reply shorter than the command requires */
    ESC_ERR_CARD_LONG,     /* reply longer than the command allows */
    ESC_ERR_CARD_GARBAGE,  /* reply malformed (bad status word or content) */
    ESC_ERR_CARD_SW,       /* the card refused the command (error status word) */
    ESC_ERR_NO_APPLET,     /* no CoolKey applet on the card */
    ESC_ERR_PIN_LOCKED,    /* PIN blocked */
    ESC_ERR_PIN_INCORRECT, /* wrong PIN */
    ESC_ERR_NOT_FOUND,     /* object not found on the card */
    ESC_ERR_BAD_OBJECT,    /* on-card object (z0, cert) malformed */
    ESC_ERR_TOO_BIG,       /* data larger than the bound allowed for it */
    ESC_ERR_BAD_CERT,      /* certificate DER malformed */
    /* network, TPS, phone home, hand-off */
    ESC_ERR_UNTRUSTED_HOST,    /* host not in allowed_hosts / plain http not allowed */
    ESC_ERR_NETWORK,           /* server unreachable */
    ESC_ERR_TLS,               /* TLS verification failed */
    ESC_ERR_SERVER,            /* server answered an error or garbage */
    ESC_ERR_TPS_REFUSED,       /* the TPS refused the operation */
    ESC_ERR_AUTH_FAILED,       /* directory user ID or password wrong */
    ESC_ERR_PROTOCOL,          /* peer broke the message protocol */
    ESC_ERR_AGENT_UNAVAILABLE, /* the agent could not be reached or started */
    ESC_ERR_CANCELLED,         /* the user cancelled */
    ESC_ERR_NOT_SUPPORTED,     /* operation not supported here */
    ESC_ERR_TPS_TIMEOUT,       /* the token server did not answer within its message deadline
                                  (tps_message_timeout), as opposed to ESC_ERR_TIMEOUT: the
                                  caller's own deadline */
    ESC_ERR__COUNT
} esc_err;

/* How pam_esc reacts to an error class (the mapping to PAM codes lives in pam_esc). */
enum esc_err_class {
    ESC_CLASS_OK,     /* success */
    ESC_CLASS_ABSENT, /* nothing to talk to (no pcscd/reader/card): ignore at once */
    ESC_CLASS_CARD,   /* the card misbehaved or refused */
    ESC_CLASS_USER,   /* user action: wrong password/PIN, cancelled */
    ESC_CLASS_SERVER, /* network, TPS, phone home, trust */
    ESC_CLASS_SYSTEM, /* local resources, config, internal */
};

/* One sentence (no trailing period), never NULL; unknown codes give a generic sentence. */
const char *esc_strerror(esc_err e);
/* Stable identifier such as "NO_CARD" (for logs and JSON), never NULL. */
const char *esc_err_name(esc_err e);
enum esc_err_class esc_err_class(esc_err e);

/* Write a formatted one-line error into err (errlen bytes; nothing when err is NULL or errlen
 * is 0): the error out-parameter of conf_load, safe_file and their callers. */
void esc_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
