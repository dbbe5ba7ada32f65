/* gp_scp.h: GlobalPlatform secure channel cryptography (SCP01 and SCP02, i=15) as the
 * Dogtag TPS/TKS and a CoolKey card compute it (shared/reference/coolkey-card.md §5).
 * Used by both sides of the rig: the virtual card (verify + unwrap) and the reference
 * TPS (wrap). Everything here is pure computation over caller buffers; no I/O. */
#ifndef ESC_GP_SCP_H
#define ESC_GP_SCP_H

#include <stddef.h>
#include <stdint.h>

enum gp_scp { GP_SCP01 = 1, GP_SCP02 = 2 };

/* Security levels of EXTERNAL AUTHENTICATE P1. */
#define GP_SEC_CMAC      0x01
#define GP_SEC_CMAC_CDEC 0x03

/* The card's static keys for one key version (2-key 3DES, 16 bytes each). */
struct gp_keyset {
    uint8_t version;
    uint8_t enc[16], mac[16], kek[16];
};

/* One open secure channel, the same structure on the card and on the host. */
struct gp_session {
    enum gp_scp scp;
    uint8_t level;      /* GP_SEC_* from EXTERNAL AUTHENTICATE; 0 until authenticated */
    uint8_t s_enc[16];  /* session ENC key */
    uint8_t s_mac[16];  /* session C-MAC key */
    uint8_t s_dek[16];  /* SCP02 session DEK; SCP01 copies the static KEK here */
    uint8_t icv[8];     /* chaining value: the last C-MAC (SCP02 encrypts it before use) */
    int first_after_ea; /* SCP02: the command after EXTERNAL AUTHENTICATE */
};

/* The developer key set: ENC = MAC = KEK = 40 41 .. 4F, version 01. */
void gp_keyset_developer(struct gp_keyset *k);

/* Session keys. SCP01 from both challenges; SCP02 from the 2-byte sequence counter. */
void gp_scp01_session(const struct gp_keyset *k, const uint8_t host_chal[8],
                      const uint8_t card_chal[8], struct gp_session *s);
void gp_scp02_session(const struct gp_keyset *k, const uint8_t seq[2], struct gp_session *s);

/* Cryptograms. `card_chal` is the 8 bytes of INITIALIZE UPDATE response offset 12..19:
 * the SCP01 card challenge, or for SCP02 seq(2) || card challenge(6). */
void gp_card_cryptogram(const struct gp_session *s, const uint8_t host_chal[8],
                        const uint8_t card_chal[8], uint8_t out[8]);
void gp_host_cryptogram(const struct gp_session *s, const uint8_t host_chal[8],
                        const uint8_t card_chal[8], uint8_t out[8]);

/* Host side: builds EXTERNAL AUTHENTICATE (84 82 level 00 10 cryptogram C-MAC), starting the
 * MAC chain with a zero ICV. Writes 21 bytes to out and sets s->level. */
void gp_external_authenticate(struct gp_session *s, uint8_t level, const uint8_t host_crypt[8],
                              uint8_t out[21]);

/* Host side: wraps a plain case-3/4 APDU (CLA INS P1 P2 [Lc data]) for the channel: CLA 84,
 * C-MAC over the plaintext, then C-DEC if the level asks for it. `le_trailer` appends a 00 Le
 * byte after the MAC (READ OBJECT and GENERATE KEY). Returns the length, or 0 if `cap` is short
 * or the plaintext does not fit one short APDU. */
size_t gp_wrap(struct gp_session *s, const uint8_t *apdu, size_t len, int le_trailer, uint8_t *out,
               size_t cap);

/* Card side: checks and unwraps a CLA 84 APDU received on the channel (including EXTERNAL
 * AUTHENTICATE itself, which is MACed but never encrypted). On success writes the plain APDU
 * (CLA 84 INS P1 P2 Lc data, Lc = plain length) and returns its length. Returns 0 on a bad
 * MAC, bad padding or malformed length (the caller answers 6982). A trailing Le byte is
 * accepted and dropped. EXTERNAL AUTHENTICATE (8 data bytes) is accepted once per session and
 * sets s->level; the caller still compares the host cryptogram and refuses levels other than
 * 01 and 03. Any other command passes only after an EXTERNAL AUTHENTICATE with C-MAC. */
size_t gp_unwrap(struct gp_session *s, const uint8_t *apdu, size_t len, uint8_t *out, size_t cap);

/* KEK-wrapped data: 3DES-ECB with the static KEK, length a multiple of 8. */
void gp_kek_encrypt(const uint8_t kek[16], const uint8_t *in, size_t len, uint8_t *out);
void gp_kek_decrypt(const uint8_t kek[16], const uint8_t *in, size_t len, uint8_t *out);

/* Card recognition data (GET DATA 0066) advertising SCP02 i=15, and the key information
 * template (GET DATA 00E0), in the forms the Dogtag TPS parses. Return the length written. */
size_t gp_card_recognition_data(uint8_t *out, size_t cap);
size_t gp_key_info_template(uint8_t key_version, uint8_t *out, size_t cap);

/* Master-key mode (VISA2, §5.2): card keys = 3DES-ECB(master, KDC(KDD, t)), t = 1 ENC, 2 MAC,
 * 3 KEK. out->version is left as it was. */
void gp_visa2_diversify(const uint8_t master[16], const uint8_t kdd[10], struct gp_keyset *out);

#endif
