/* probe: what is in the reader, in milliseconds (design.md "The card probe").
 *
 * Bounded: the PC/SC context is opened with the probe's timeout (pcsc.h: pcscd's own protocol
 * on our socket, each step bounded by poll(), no thread, no child process, no signal; with a
 * pcscd of another protocol, libpcsclite under pcsc.h's watchdog thread), so a wedged pcscd
 * or a card that stops answering costs at most timeout_ms.
 *
 * Full sequence per reader (inside one SCardBeginTransaction; never VERIFY, so no PIN try is
 * spent): SCardGetStatusChange(0) for presence -> connect -> ATR -> SELECT CoolKey ->
 * GET LIFE CYCLE (4 B) -> GET STATUS -> GET PIN REMAINING TRIES -> GET ISSUER INFO ->
 * READ OBJECT z0 (or LIST OBJECTS + C<n> objects) -> notAfter of each certificate ->
 * SELECT card manager + GET DATA CPLC (CUID) -> SELECT CoolKey again.
 * With decide_only (pam_esc): SELECT CoolKey -> GET LIFE CYCLE -> (personalised) GET PIN
 * REMAINING TRIES -> READ OBJECT of z0's 20-byte header (LIST OBJECTS for the separate layout),
 * or every certificate when check_expiry: the same state, fewer facts.
 *
 * States: NO_PCSCD / NO_READER / NO_CARD (nothing to talk to), NO_APPLET (SELECT fails),
 * UNINITIALIZED (life cycle != 0F or no certificate), ENROLLED, PIN_LOCKED (tries 0),
 * EXPIRED (every certificate past notAfter), ERROR (the card answered garbage, vanished,
 * or the deadline passed: `err` says which). */
#ifndef ESC_PROBE_H
#define ESC_PROBE_H

#include "coolkey.h"
#include "esc_err.h"
#include "pcsc.h"
#include "seat.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum probe_state {
    PROBE_NO_PCSCD,
    PROBE_NO_READER,
    PROBE_NO_CARD,
    PROBE_NO_APPLET,
    PROBE_UNINITIALIZED,
    PROBE_ENROLLED,
    PROBE_PIN_LOCKED,
    PROBE_EXPIRED,
    PROBE_ERROR,
};

struct probe_facts;

struct probe_opts {
    unsigned timeout_ms; /* whole probe; 0 = PROBE_DEFAULT_TIMEOUT_MS */
    const char *reader;  /* only this reader; NULL or "" = every reader */
    time_t now;          /* "now" for EXPIRED; 0 = time(NULL) */
    bool decide_only;    /* only what the state needs: no versions, issuer info, CUID, subject */
    bool check_expiry;   /* with decide_only: read the certificates so EXPIRED can be told */
    /* pam_esc where logind runs: only a reader on this seat (seat.h); a card in a reader of
     * another seat is left alone (state NO_CARD, other_seat names that seat). NULL: any. */
    const char *seat;
    const char *udev_dir;    /* udev's database (NULL: SEAT_UDEV_DIR) */
    const char *reader_seat; /* tests only: every reader's seat, instead of udev's answer */
    /* pam_esc's decision cache (pam_esc/pe_cache.h): asked about the picked reader (name,
     * pcscd's event counter, ATR) before the card is touched; true when it filled `out`'s
     * state and facts, and then no APDU is sent. NULL: always probe. */
    bool (*known)(void *arg, const struct pcsc_reader *r, struct probe_facts *out);
    void *known_arg;
    /* with known: a remembered card is asked for its PIN tries (one APDU, GET PIN REMAINING
     * TRIES to the applet the last program left selected) instead of trusted as it was: a PIN
     * blocked since by any program is seen (PIN_LOCKED). Any other answer: the usual probe. */
    bool confirm_known;
};
#define PROBE_DEFAULT_TIMEOUT_MS 300

#define PROBE_URL_MAX (CK_ISSUER_INFO_LEN + 1)

struct probe_facts {
    enum probe_state state;
    esc_err err; /* ESC_OK, or why (NO_* and ERROR states; also a fact read that failed) */
    char reader[PCSC_READER_NAME_MAX];
    uint8_t atr[PCSC_ATR_MAX];
    size_t atr_len;
    unsigned event_count; /* pcscd's insertion/removal counter of the reader (pcsc.h) */
    bool from_cache;      /* decided by opts->known (no APDU sent unless tries_read) */
    bool tries_read;      /* from_cache with confirm_known: pin_tries_left is the card's now */
    bool have_cuid;
    uint8_t cuid[CK_CUID_LEN];
    char cuid_hex[2 * CK_CUID_LEN + 1];
    char applet_version[32]; /* "1.4" or "1.4.58768072" (major.minor.buildid, as the TPS) */
    int life_cycle;          /* -1 unknown */
    int pin_tries_left;      /* -1 unknown */
    char phone_home_url[PROBE_URL_MAX]; /* issuer info */
    size_t ncerts;
    int64_t not_after; /* latest notAfter of the certificates (0 if none) */
    uint64_t certs_id; /* the certificates read, in order (FNV-1a of their DER; 0: none read):
                          tells a renewal from the same certificates read again, even one
                          issued within the same second as the old (agent/engine/op_outcome.c) */
    char subject[256]; /* subject of the first certificate */
    char issuer[256];  /* issuer of the first certificate */
    unsigned elapsed_ms;
    char other_seat[SEAT_NAME_MAX]; /* the card's reader is on this seat, not opts->seat */
};

/* Probe one card: opts->reader if set, else the first reader holding a card (or the first
 * reader if none holds one). Never fails: the outcome is in out->state / out->err. */
void probe_card(const struct probe_opts *opts, struct probe_facts *out);

/* One entry per reader (for escctl status); all readers share the one timeout. With no
 * pcscd or no reader, one entry carrying that state. Returns the number of entries written
 * (>= 1 when max >= 1). */
size_t probe_all(const struct probe_opts *opts, struct probe_facts *out, size_t max);

/* "ENROLLED", "NO_CARD", ... */
const char *probe_state_name(enum probe_state s);

#endif
