/* tpsd_personalize: the last steps of an enrollment (tps-protocol.md §8.4 steps 10-12). */
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "tpsd_log.h"
#include "tpsd_op.h"

int tpsd_op_finish_personalization(struct tpsd_op *op)
{
    struct tpsd_card *k = &op->card;
    static const uint8_t lifecycle[5] = {0x84, 0xF0, 0x0F, 0x00, 0x00};
    if (tpsd_op_status(op, 98, "PROGRESS_ISSUER_INFO") < 0 ||
        tpsd_card_set_issuer_info(k, op->ctx->issuer_info) < 0)
        return tpsd_op_err(op, TPSD_ST_CANNOT_PERFORM);
    if (tpsd_op_status(op, 99, "PROGRESS_SET_LIFECYCLE") < 0)
        return tpsd_op_err(op, TPSD_ST_CONN_LOST);
    if (k->lifecycle != 0x0F) {
        if (tpsd_card_secure_ok(k, lifecycle, sizeof(lifecycle), TPSD_ST_MAC_LIFECYCLE_PDU) < 0)
            return tpsd_op_err(op, TPSD_ST_MAC_LIFECYCLE_PDU);
        k->lifecycle = 0x0F;
    }
    return 0;
}

void tpsd_op_clear_key_slots(struct tpsd_op *op)
{
    /* keep the key pairs in use (2,3) and (4,5); everything else is cleared */
    static const uint8_t clear_slots[9] = {0x84, 0x55, 0x00, 0x00, 0x04, 2, 3, 4, 5};
    uint8_t r[TPSD_RESP_MAX];
    size_t rlen;
    uint16_t sw;
    /* SecureChannel.clearAppletKeySlotData catches every failure, the lost connection too */
    if (tpsd_card_secure(&op->card, clear_slots, sizeof(clear_slots), 0, r, &rlen, &sw) < 0)
        tpsd_log(op->id, "CLEAR KEY SLOTS failed (ignored)");
    else if (sw != 0x9000)
        tpsd_log(op->id, "CLEAR KEY SLOTS: SW %04X (ignored)", sw);
}

void tpsd_note_cert(struct tpsd_op *op, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    BIGNUM *bn = NULL;
    char *hex = NULL;
    size_t used = strlen(op->token.certs);
    if (x)
        bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (bn)
        hex = BN_bn2hex(bn);
    if (hex && used + strlen(hex) + 2 < sizeof(op->token.certs))
        snprintf(op->token.certs + used, sizeof(op->token.certs) - used, "%s%s", used ? "," : "",
                 hex);
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(x);
}
