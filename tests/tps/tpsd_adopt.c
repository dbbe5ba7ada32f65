/* tpsd_adopt: reading the card's z0 and adopting a token the TPS has no record of (a card
 * enrolled by the rig's provisioning rather than by this TPS): it is recorded as active,
 * owned by the UID in its first certificate. */
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "tpsd_log.h"
#include "tpsd_op.h"
#include "tpsd_z0read.h"

static const uint8_t Z0_ID[4] = {'z', '0', 0x00, 0x00};

int tpsd_read_z0(struct tpsd_op *op, struct tpsd_z0 *z)
{
    size_t size;
    uint8_t *buf;
    int rc = tpsd_card_find_object(&op->card, Z0_ID, &size);
    if (rc != 0)
        return rc < 0 ? tpsd_op_err(op, TPSD_ST_CANNOT_PERFORM) : 1;
    if (size < 20 || size > 32768)
        return 1;
    buf = malloc(size);
    if (!buf)
        return TPSD_ST_CANNOT_PERFORM;
    if (tpsd_card_read_object(&op->card, Z0_ID, 0, size, buf) < 0) {
        free(buf);
        return tpsd_op_err(op, TPSD_ST_CANNOT_PERFORM);
    }
    rc = tpsd_z0_parse(buf, size, z);
    free(buf);
    if (rc < 0) {
        tpsd_log(op->id, "the z0 object on the card is corrupt");
        return TPSD_ST_CANNOT_PERFORM; /* Dogtag: DataFormatException -> message 8 */
    }
    return 0;
}

int tpsd_cert_name(const uint8_t *der, size_t len, int nid, char *out, size_t cap)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    int idx, ret = -1;
    X509_NAME_ENTRY *e;
    ASN1_STRING *s;
    if (!x)
        return -1;
    idx = X509_NAME_get_index_by_NID(X509_get_subject_name(x), nid, -1);
    e = idx >= 0 ? X509_NAME_get_entry(X509_get_subject_name(x), idx) : NULL;
    s = e ? X509_NAME_ENTRY_get_data(e) : NULL;
    if (s && (size_t)ASN1_STRING_length(s) < cap && ASN1_STRING_length(s) > 0 &&
        !memchr(ASN1_STRING_get0_data(s), '\0', (size_t)ASN1_STRING_length(s))) {
        memcpy(out, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
        out[ASN1_STRING_length(s)] = '\0';
        ret = 0;
    }
    X509_free(x);
    return ret;
}

int tpsd_op_adopt(struct tpsd_op *op)
{
    struct tpsd_z0 z;
    char uid[128];
    int rc;
    if (!op->card.applet_present)
        return TPSD_ST_UNKNOWN_TOKEN;
    tpsd_card_get_lifecycle(&op->card);
    if (op->card.lifecycle != 0x0F)
        return TPSD_ST_UNKNOWN_TOKEN;
    if (tpsd_card_select_applet(&op->card) != 0 || tpsd_card_open_channel(&op->card) < 0)
        return tpsd_op_err(op, TPSD_ST_SECURE_CHANNEL);
    rc = tpsd_read_z0(op, &z);
    if (rc == 1)
        return TPSD_ST_UNKNOWN_TOKEN;
    if (rc)
        return rc;
    rc = TPSD_ST_UNKNOWN_TOKEN;
    if (z.n_certs > 0 &&
        tpsd_cert_name(z.certs[0].der, z.certs[0].der_len, NID_userId, uid, sizeof(uid)) == 0) {
        op->token.certs[0] = '\0';
        for (size_t i = 0; i < z.n_certs; i++)
            tpsd_note_cert(op, z.certs[i].der, z.certs[i].der_len);
        rc = tpsd_op_save_token(op, TS_ACTIVE, uid);
        if (rc == 0)
            tpsd_log(op->id, "adopted token %s, owner '%s' from its certificate", op->card.cuid_hex,
                     uid);
    }
    tpsd_z0_free(&z);
    return rc;
}
