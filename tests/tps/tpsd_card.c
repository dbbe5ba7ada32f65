/* tpsd_card: APDUs through the client, the §8.2 prologue and the secure channel. */
#include "tpsd_card.h"

#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "tpsd_log.h"
#include "tpsd_status.h"

static const uint8_t COOLKEY_AID[7] = {0x62, 0x76, 0x01, 0xFF, 0x00, 0x00, 0x00};
/* Card manager AIDs the TPS accepts (coolkey-card.md §1), the first is the default. */
static const uint8_t CM_AIDS[3][8] = {{0xA0, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00},
                                      {0xA0, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00},
                                      {0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00}};
static const size_t CM_AID_LENS[3] = {7, 8, 7};

void tpsd_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

void tpsd_card_init(struct tpsd_card *k, struct tpsd_conv *conv, unsigned long id)
{
    memset(k, 0, sizeof(*k));
    k->conv = conv;
    k->id = id;
    k->lifecycle = -1;
    k->scp = GP_SCP01;
}

int tpsd_card_fail(struct tpsd_card *k, int code)
{
    if (!k->err)
        k->err = code;
    return -1;
}

int tpsd_card_apdu(struct tpsd_card *k, const uint8_t *apdu, size_t len, uint8_t *resp,
                   size_t *rlen, uint16_t *sw)
{
    struct tps_enc e;
    struct tps_msg m;
    const struct tps_field *data;
    long size;
    int rc = -1;
    if (k->err)
        return -1;
    tps_enc_init(&e, TPS_MSG_TOKEN_PDU_REQUEST);
    tps_enc_int(&e, "pdu_size", (long)len);
    tps_enc_bytes(&e, "pdu_data", apdu, len);
    k->apdus++;
    if (tpsd_conv_exchange(k->conv, &e, &m, TPS_MSG_TOKEN_PDU_RESPONSE) < 0) {
        tpsd_card_fail(k, k->conv->failed ? TPSD_ST_CONN_LOST : TPSD_ST_SNAC);
        goto out;
    }
    data = tps_msg_get(&m, "pdu_data");
    /* Dogtag: the decoded length must equal pdu_size (TokenPDUResponseMsg) */
    if (!data || tps_msg_long(&m, "pdu_size", 2, TPSD_RESP_MAX + 2, &size) < 0 ||
        (size_t)size != data->len) {
        tpsd_log(k->id, "TOKEN_PDU_RESPONSE without a consistent pdu_size/pdu_data");
        tpsd_card_fail(k, TPSD_ST_SNAC);
        goto out;
    }
    *rlen = data->len - 2;
    memcpy(resp, data->val, *rlen);
    *sw = (uint16_t)(data->val[data->len - 2] << 8 | data->val[data->len - 1]);
    if (tpsd_log_verbose())
        tpsd_log(k->id, "apdu %02X %02X %02X %02X (%zu bytes) -> %zu bytes, SW %04X", apdu[0],
                 apdu[1], apdu[2], apdu[3], len, *rlen, *sw);
    rc = 0;
out:
    tps_enc_wipe(&e);
    tps_msg_wipe(&m);
    return rc;
}

/* Case-2 command with Le; a 6Cxx answer is repeated with Le = xx (coolkey-card.md §3). */
static int apdu_le(struct tpsd_card *k, const uint8_t hdr[4], uint8_t le, uint8_t *resp,
                   size_t *rlen, uint16_t *sw)
{
    uint8_t a[5] = {hdr[0], hdr[1], hdr[2], hdr[3], le};
    if (tpsd_card_apdu(k, a, 5, resp, rlen, sw) < 0)
        return -1;
    if ((*sw >> 8) == 0x6C) {
        a[4] = (uint8_t)(*sw & 0xFF);
        return tpsd_card_apdu(k, a, 5, resp, rlen, sw);
    }
    return 0;
}

int tpsd_card_secure(struct tpsd_card *k, const uint8_t *plain, size_t len, int le_trailer,
                     uint8_t *resp, size_t *rlen, uint16_t *sw)
{
    uint8_t wrapped[TPSD_APDU_MAX + 32];
    size_t n;
    if (!k->channel_open)
        return tpsd_card_fail(k, TPSD_ST_SECURE_CHANNEL);
    n = gp_wrap(&k->sess, plain, len, le_trailer, wrapped, sizeof(wrapped));
    if (n == 0) {
        tpsd_log(k->id, "cannot wrap APDU %02X %02X (%zu bytes)", plain[0], plain[1], len);
        return tpsd_card_fail(k, TPSD_ST_SECURE_CHANNEL);
    }
    return tpsd_card_apdu(k, wrapped, n, resp, rlen, sw);
}

int tpsd_card_le_trailer(const struct tpsd_card *k)
{
    return !(k->no_le_byte && k->scp == GP_SCP01);
}

int tpsd_card_secure_ok(struct tpsd_card *k, const uint8_t *plain, size_t len, int code)
{
    uint8_t resp[TPSD_RESP_MAX];
    size_t rlen;
    uint16_t sw;
    if (tpsd_card_secure(k, plain, len, 0, resp, &rlen, &sw) < 0)
        return -1;
    if (sw != 0x9000) {
        tpsd_log(k->id, "card refused %02X %02X %02X %02X: SW %04X", plain[0], plain[1], plain[2],
                 plain[3], sw);
        return tpsd_card_fail(k, code);
    }
    return 0;
}

static int select_aid(struct tpsd_card *k, const uint8_t *aid, size_t aid_len, uint16_t *sw)
{
    uint8_t a[5 + 16 + 1], resp[TPSD_RESP_MAX];
    size_t rlen;
    a[0] = 0x00, a[1] = 0xA4, a[2] = 0x04, a[3] = 0x00, a[4] = (uint8_t)aid_len;
    memcpy(a + 5, aid, aid_len);
    a[5 + aid_len] = 0x00; /* Dogtag's SelectAPDU adds a Le 00 trailer */
    k->channel_open = false;
    return tpsd_card_apdu(k, a, 6 + aid_len, resp, &rlen, sw);
}

int tpsd_card_select_applet(struct tpsd_card *k)
{
    uint16_t sw;
    if (select_aid(k, COOLKEY_AID, sizeof(COOLKEY_AID), &sw) < 0)
        return -1;
    return sw == 0x9000 ? 0 : 1;
}

int tpsd_card_select_cm(struct tpsd_card *k)
{
    uint16_t sw;
    if (select_aid(k, k->cm_aid, k->cm_aid_len, &sw) < 0)
        return -1;
    if (sw != 0x9000) {
        tpsd_log(k->id, "card manager select failed: SW %04X", sw);
        return tpsd_card_fail(k, TPSD_ST_CANNOT_ESTABLISH_COMMUNICATION);
    }
    return 0;
}

/* Default select: FCI "6F .. 84 len AID"; the AID is used if it is a known card manager. */
static int default_select(struct tpsd_card *k)
{
    static const uint8_t hdr[4] = {0x00, 0xA4, 0x04, 0x00};
    uint8_t resp[TPSD_RESP_MAX];
    size_t rlen;
    uint16_t sw;
    memcpy(k->cm_aid, CM_AIDS[0], CM_AID_LENS[0]);
    k->cm_aid_len = CM_AID_LENS[0];
    if (apdu_le(k, hdr, 0x00, resp, &rlen, &sw) < 0)
        return -1;
    if (sw == 0x9000 && rlen > 2 && resp[0] == 0x6F) {
        for (size_t i = 2; i + 1 < rlen; i++) {
            size_t n = resp[i + 1];
            if (resp[i] != 0x84 || i + 2 + n > rlen)
                continue;
            for (int c = 0; c < 3; c++)
                if (n == CM_AID_LENS[c] && memcmp(resp + i + 2, CM_AIDS[c], n) == 0) {
                    memcpy(k->cm_aid, CM_AIDS[c], n);
                    k->cm_aid_len = n;
                }
            break;
        }
    }
    return 0;
}

static int read_cplc(struct tpsd_card *k)
{
    static const uint8_t hdr[4] = {0x80, 0xCA, 0x9F, 0x7F};
    uint8_t c[TPSD_RESP_MAX];
    size_t rlen;
    uint16_t sw;
    if (apdu_le(k, hdr, 0x2D, c, &rlen, &sw) < 0)
        return -1;
    if (sw != 0x9000 || rlen != 45) {
        tpsd_log(k->id, "GET DATA CPLC: %zu bytes, SW %04X (need 45 + 9000)", rlen, sw);
        return tpsd_card_fail(k, TPSD_ST_CANNOT_ESTABLISH_COMMUNICATION);
    }
    /* CUID = fabricator, IC type || batch ID || IC serial (coolkey-card.md §3) */
    memcpy(k->cuid, c + 3, 4);
    memcpy(k->cuid + 4, c + 19, 2);
    memcpy(k->cuid + 6, c + 15, 4);
    memcpy(k->msn, c + 41, 4);
    tpsd_hex(k->cuid, 10, k->cuid_hex);
    return 0;
}

int tpsd_card_read_status(struct tpsd_card *k)
{
    static const uint8_t st[4] = {0xB0, 0x3C, 0x00, 0x00}, ver[4] = {0xB0, 0x70, 0x00, 0x00};
    uint8_t r[TPSD_RESP_MAX];
    size_t rlen;
    uint16_t sw;
    if (apdu_le(k, st, 0x10, r, &rlen, &sw) < 0)
        return -1;
    if (sw != 0x9000 || rlen != 16) {
        tpsd_log(k->id, "GET STATUS: %zu bytes, SW %04X", rlen, sw);
        return tpsd_card_fail(k, TPSD_ST_CANNOT_PERFORM);
    }
    k->proto_major = r[0], k->proto_minor = r[1], k->app_major = r[2], k->app_minor = r[3];
    k->total_mem = (unsigned long)r[4] << 24 | (unsigned long)r[5] << 16 | r[6] << 8 | r[7];
    k->free_mem = (unsigned long)r[8] << 24 | (unsigned long)r[9] << 16 | r[10] << 8 | r[11];
    if (apdu_le(k, ver, 0x04, r, &rlen, &sw) < 0)
        return -1;
    if (sw != 0x9000 || rlen != 4) {
        tpsd_log(k->id, "GET VERSION: %zu bytes, SW %04X", rlen, sw);
        return tpsd_card_fail(k, TPSD_ST_CANNOT_PERFORM);
    }
    memcpy(k->build_id, r, 4);
    snprintf(k->version, sizeof(k->version), "%u.%u.%02x%02x%02x%02x", k->app_major, k->app_minor,
             r[0], r[1], r[2], r[3]);
    return 0;
}

int tpsd_card_get_lifecycle(struct tpsd_card *k)
{
    static const uint8_t hdr[4] = {0xB0, 0xF2, 0x00, 0x00};
    uint8_t r[TPSD_RESP_MAX];
    size_t rlen;
    uint16_t sw;
    if (apdu_le(k, hdr, 0x01, r, &rlen, &sw) < 0)
        return -1;
    k->lifecycle = (sw == 0x9000 && rlen == 1) ? r[0] : -1;
    return 0;
}

int tpsd_card_detect_protocol(struct tpsd_card *k)
{
    static const uint8_t crd[4] = {0x80, 0xCA, 0x00, 0x66}, kit[4] = {0x80, 0xCA, 0x00, 0xE0};
    static const uint8_t scp_oid[7] = {0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x04};
    uint8_t r[TPSD_RESP_MAX];
    size_t rlen;
    uint16_t sw;
    int scp = 1, i_param = 0;
    k->scp = GP_SCP01;
    k->scp_known = true;
    if (apdu_le(k, crd, 0x2D, r, &rlen, &sw) < 0)
        return -1;
    if (sw != 0x9000)
        return 0; /* GP 2.0.1 card: SCP01 (TPSProcessor.acquireChannelPlatformAndProtocolInfo) */
    for (size_t i = 0; i + sizeof(scp_oid) + 2 <= rlen; i++)
        if (memcmp(r + i, scp_oid, sizeof(scp_oid)) == 0) {
            scp = r[i + sizeof(scp_oid)];
            i_param = r[i + sizeof(scp_oid) + 1];
            break;
        }
    if (apdu_le(k, kit, 0x2D, r, &rlen, &sw) < 0)
        return -1;
    if (sw != 0x9000)
        return 0;
    if (scp == 2) {
        if (i_param != 0x15) {
            tpsd_log(k->id, "card advertises SCP02 i=%02X; only i=15 is supported", i_param);
            return tpsd_card_fail(k, TPSD_ST_SECURE_CHANNEL);
        }
        k->scp = GP_SCP02;
    } else if (scp == 3) {
        tpsd_log(k->id, "card advertises SCP03, which this TPS does not speak");
        return tpsd_card_fail(k, TPSD_ST_SECURE_CHANNEL);
    }
    return 0;
}

int tpsd_card_prologue(struct tpsd_card *k)
{
    int rc;
    if (default_select(k) < 0 || tpsd_card_select_cm(k) < 0 || read_cplc(k) < 0 ||
        tpsd_card_detect_protocol(k) < 0)
        return -1;
    rc = tpsd_card_select_applet(k);
    if (rc < 0)
        return -1;
    k->applet_present = rc == 0;
    if (k->applet_present && tpsd_card_read_status(k) < 0)
        return -1;
    tpsd_log(k->id, "card %s: applet %s, SCP0%d", k->cuid_hex,
             k->applet_present ? k->version : "absent", k->scp == GP_SCP02 ? 2 : 1);
    return 0;
}

int tpsd_card_open_channel(struct tpsd_card *k)
{
    uint8_t a[13] = {0x80, 0x50, 0x00, 0x00, 0x08}, r[TPSD_RESP_MAX], cc[8], hc[8], ea[21];
    uint8_t host_chal[8];
    size_t rlen;
    uint16_t sw;
    k->channel_open = false;
    if (RAND_bytes(host_chal, 8) != 1)
        return tpsd_card_fail(k, TPSD_ST_SEC_INIT_UPDATE);
    memcpy(a + 5, host_chal, 8);
    if (tpsd_card_apdu(k, a, sizeof(a), r, &rlen, &sw) < 0)
        return -1;
    if (sw != 0x9000 || rlen != 28) {
        tpsd_log(k->id, "INITIALIZE UPDATE: %zu bytes, SW %04X", rlen, sw);
        return tpsd_card_fail(k, TPSD_ST_SEC_INIT_UPDATE);
    }
    /* Developer key set: the TKS uses 404142..4F undiversified for key version 01 (or FF). */
    if (r[10] != 0x01 && r[10] != 0xFF) {
        tpsd_log(k->id, "card key version %02X: no master key configured for it", r[10]);
        return tpsd_card_fail(k, TPSD_ST_SEC_INIT_UPDATE);
    }
    if ((r[11] == 2) != (k->scp == GP_SCP02))
        tpsd_log(k->id, "key info says SCP0%u, GET DATA said SCP0%d: using the latter", r[11],
                 k->scp == GP_SCP02 ? 2 : 1);
    gp_keyset_developer(&k->keys);
    k->keys.version = r[10];
    memset(&k->sess, 0, sizeof(k->sess));
    if (k->scp == GP_SCP02)
        gp_scp02_session(&k->keys, r + 12, &k->sess);
    else
        gp_scp01_session(&k->keys, host_chal, r + 12, &k->sess);
    gp_card_cryptogram(&k->sess, host_chal, r + 12, cc);
    if (memcmp(cc, r + 20, 8) != 0) {
        tpsd_log(k->id, "card cryptogram mismatch: the card does not hold the developer keys");
        explicit_bzero(&k->sess, sizeof(k->sess));
        return tpsd_card_fail(k, TPSD_ST_SECURE_CHANNEL);
    }
    gp_host_cryptogram(&k->sess, host_chal, r + 12, hc);
    gp_external_authenticate(&k->sess, GP_SEC_CMAC_CDEC, hc, ea);
    if (tpsd_card_apdu(k, ea, sizeof(ea), r, &rlen, &sw) < 0)
        return -1;
    if (sw != 0x9000) {
        tpsd_log(k->id, "EXTERNAL AUTHENTICATE: SW %04X", sw);
        return tpsd_card_fail(k, TPSD_ST_EXTERNAL_AUTH);
    }
    k->channel_open = true;
    return 0;
}

static void put32(uint8_t *p, unsigned long v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#define OBJ_CHUNK 0xD0 /* Dogtag reads and writes objects in 0xD0-byte pieces */

int tpsd_card_read_object(struct tpsd_card *k, const uint8_t id[4], size_t off, size_t len,
                          uint8_t *out)
{
    while (len > 0) {
        uint8_t a[14] = {0x84, 0x56, 0x00, 0x00, 0x09}, r[TPSD_RESP_MAX];
        size_t n = len < OBJ_CHUNK ? len : OBJ_CHUNK, rlen;
        uint16_t sw;
        memcpy(a + 5, id, 4);
        put32(a + 9, off);
        a[13] = (uint8_t)n;
        if (tpsd_card_secure(k, a, sizeof(a), tpsd_card_le_trailer(k), r, &rlen, &sw) < 0)
            return -1;
        if (sw != 0x9000 || rlen != n) {
            tpsd_log(k->id, "READ OBJECT at %zu: %zu of %zu bytes, SW %04X", off, rlen, n, sw);
            return tpsd_card_fail(k, TPSD_ST_CANNOT_PERFORM);
        }
        memcpy(out, r, n);
        out += n, off += n, len -= n;
    }
    return 0;
}

int tpsd_card_create_object(struct tpsd_card *k, const uint8_t id[4], size_t size,
                            uint16_t read_acl)
{
    /* z0: read FFFF (anyone), write 4000 and delete 4000 (the RA), as Dogtag writes it */
    uint8_t a[19] = {0x84, 0x5A, 0x00, 0x00, 0x0E};
    memcpy(a + 5, id, 4);
    put32(a + 9, size);
    a[13] = (uint8_t)(read_acl >> 8), a[14] = (uint8_t)read_acl;
    memcpy(a + 15, "\x40\x00\x40\x00", 4);
    return tpsd_card_secure_ok(k, a, sizeof(a), TPSD_ST_MAC_CERT_PDU);
}

int tpsd_card_delete_object(struct tpsd_card *k, const uint8_t id[4])
{
    uint8_t a[9] = {0x84, 0x52, 0x00, 0x00, 0x04};
    memcpy(a + 5, id, 4);
    return tpsd_card_secure_ok(k, a, sizeof(a), TPSD_ST_CANNOT_PERFORM);
}

int tpsd_card_write_object(struct tpsd_card *k, const uint8_t id[4], const uint8_t *data,
                           size_t len)
{
    size_t off = 0;
    while (off < len) {
        uint8_t a[14 + OBJ_CHUNK] = {0x84, 0x54, 0x00, 0x00};
        size_t n = len - off < OBJ_CHUNK ? len - off : OBJ_CHUNK;
        a[4] = (uint8_t)(9 + n);
        memcpy(a + 5, id, 4);
        put32(a + 9, off);
        a[13] = (uint8_t)n;
        memcpy(a + 14, data + off, n);
        if (tpsd_card_secure_ok(k, a, 14 + n, TPSD_ST_MAC_CERT_PDU) < 0)
            return -1;
        off += n;
    }
    return 0;
}

int tpsd_card_find_object(struct tpsd_card *k, const uint8_t id[4], size_t *size)
{
    for (int i = 0; i < 100; i++) {
        uint8_t hdr[4] = {0xB0, 0x58, (uint8_t)(i ? 1 : 0), 0x00}, r[TPSD_RESP_MAX];
        size_t rlen;
        uint16_t sw;
        if (apdu_le(k, hdr, 0x0E, r, &rlen, &sw) < 0)
            return -1;
        if (sw != 0x9000 || rlen != 14)
            return 1; /* 9C12: end of the list */
        if (memcmp(r, id, 4) == 0) {
            *size = (size_t)r[4] << 24 | (size_t)r[5] << 16 | (size_t)r[6] << 8 | r[7];
            return 0;
        }
    }
    return 1;
}

int tpsd_card_set_issuer_info(struct tpsd_card *k, const char *url)
{
    uint8_t a[5 + 224] = {0x84, 0xF4, 0x00, 0x00, 0xE0};
    size_t n = strlen(url);
    if (n > 224)
        n = 224;
    memcpy(a + 5, url, n); /* zero-padded to 224 bytes (SecureChannel.setIssuerInfo) */
    return tpsd_card_secure_ok(k, a, sizeof(a), TPSD_ST_CANNOT_PERFORM);
}

int tpsd_card_set_pin(struct tpsd_card *k, const char *pin, size_t len)
{
    uint8_t a[5 + 16] = {0x84, 0x40, 0x00, 0x7F, 0x08}, r[TPSD_RESP_MAX];
    size_t rlen;
    uint16_t sw;
    int rc;
    if (len == 0 || len > 16)
        return tpsd_card_fail(k, TPSD_ST_TOKEN_RESET_PIN_FAILED);
    /* CREATE PIN 0 with Dogtag's create_pin.string "password"; an existing PIN is fine */
    memcpy(a + 5, "password", 8);
    if (tpsd_card_secure(k, a, 13, 0, r, &rlen, &sw) < 0)
        return -1;
    a[1] = 0x04, a[2] = 0x00, a[3] = 0x00, a[4] = (uint8_t)len;
    memcpy(a + 5, pin, len);
    rc = tpsd_card_secure_ok(k, a, 5 + len, TPSD_ST_TOKEN_RESET_PIN_FAILED);
    explicit_bzero(a, sizeof(a));
    return rc;
}
