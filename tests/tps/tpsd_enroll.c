/* tpsd_enroll: ENROLL (tps-protocol.md §8.4, coolkey-card.md §6): new PIN, two key pairs
 * (signing on the card; encryption on the card, or server-side with archival for the
 * userKeyArchive type), certificates from the test CA written as a compressed z0, issuer info,
 * life cycle 0F. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "z0.h"
#include "tpsd_keys.h"
#include "tpsd_log.h"
#include "tpsd_op.h"

static const uint8_t Z0_ID[4] = {'z', '0', 0x00, 0x00};

/* The object version of the z0 on the card (+1), or a random start (TE getCurrentObjects). */
static uint16_t next_object_version(struct tpsd_op *op)
{
    uint8_t hdr[20];
    size_t size;
    int rc = tpsd_card_find_object(&op->card, Z0_ID, &size);
    if (rc == 0 && size >= sizeof(hdr) && tpsd_card_read_object(&op->card, Z0_ID, 0, 20, hdr) == 0)
        return (uint16_t)(((hdr[2] << 8) | hdr[3]) + 1);
    {
        uint8_t r[2] = {0, 0};
        RAND_bytes(r, 2);
        return (uint16_t)(1 + ((unsigned)r[0] << 8 | r[1]) % 1000);
    }
}

/* Writes z0 (CREATE OBJECT + WRITE OBJECT) on a fresh channel. 0 or an END_OP code. */
int tpsd_write_z0(struct tpsd_op *op, const struct z0_cert *certs, size_t n, uint16_t version)
{
    size_t len;
    const char *name = op->user[0] ? op->user : op->card.cuid_hex;
    uint8_t *z0 = z0_build(op->card.cuid, version, name, certs, n, 1, &len);
    int ret = TPSD_ST_MAC_CERT_PDU;
    if (!z0) {
        tpsd_log(op->id, "cannot build z0");
        return TPSD_ST_MAC_CERT_PDU;
    }
    if (op->card.total_mem && len > op->card.total_mem) {
        tpsd_log(op->id, "z0 (%zu bytes) does not fit the applet's %lu bytes", len,
                 op->card.total_mem);
        goto out;
    }
    if (tpsd_card_create_object(&op->card, Z0_ID, len, 0xFFFF) < 0 ||
        tpsd_card_write_object(&op->card, Z0_ID, z0, len) < 0) {
        ret = tpsd_op_err(op, TPSD_ST_MAC_CERT_PDU);
        goto out;
    }
    tpsd_log(op->id, "z0 written: %zu bytes, object version %u", len, version);
    ret = 0;
out:
    free(z0);
    return ret;
}

static int personalize(struct tpsd_op *op)
{
    struct tpsd_card *k = &op->card;
    char pin[32];
    size_t pin_len = 0;
    int rc;
    /* checkAndUpgradeApplet: reinstall only when the version differs from the required one */
    if (strcmp(k->version, op->cfg->applet_version) != 0) {
        tpsd_log(op->id, "applet %s differs from required %s: upgrading", k->version,
                 op->cfg->applet_version);
        rc = tpsd_applet_install(op, 5, 12);
        if (rc)
            return rc;
        k->lifecycle = 0x07;
    }
    if (tpsd_card_select_applet(k) != 0 || tpsd_card_open_channel(k) < 0)
        return tpsd_op_err(op, TPSD_ST_SECURE_CHANNEL);
    rc = tpsd_op_new_pin(op, pin, sizeof(pin), &pin_len);
    if (rc)
        return rc;
    rc = tpsd_card_set_pin(k, pin, pin_len) < 0 ? tpsd_op_err(op, TPSD_ST_TOKEN_RESET_PIN_FAILED)
                                                : 0;
    explicit_bzero(pin, sizeof(pin));
    return rc;
}

int tpsd_enroll(struct tpsd_op *op)
{
    struct tpsd_card *k = &op->card;
    struct tpsd_pubkey keys[2];
    uint8_t *der[2] = {NULL, NULL};
    size_t der_len[2] = {0, 0};
    struct z0_cert certs[2];
    uint16_t version;
    const char *uid;
    int rc, recovered = 0;

    if (k->applet_present)
        tpsd_card_get_lifecycle(k);
    /* Login before anything is written: Dogtag force-formats an unknown token first, but a
     * wrong password must leave the card as it was (a deliberate difference, README.md). */
    rc = tpsd_op_login(op, OI_ENROLL);
    if (rc)
        return rc;
    if (op->have_token && op->token.status == TS_DISABLED)
        return TPSD_ST_DISABLED_TOKEN;
    if (op->have_token && op->token.status == TS_ACTIVE && op->token.owner[0] && op->user[0] &&
        strcmp(op->token.owner, op->user) != 0) {
        tpsd_log(op->id, "token belongs to '%s', not '%s'", op->token.owner, op->user);
        return TPSD_ST_NOT_TOKEN_OWNER;
    }
    if (!k->applet_present || !op->have_token) {
        /* a token the TPS does not know, or without applet: do_force_format */
        tpsd_log(op->id, "unknown token or no applet: formatting first");
        rc = tpsd_format(op, true);
        if (rc)
            return rc;
    }
    rc = personalize(op);
    if (rc)
        return rc;
    version = next_object_version(op);
    if (k->err)
        return tpsd_op_err(op, TPSD_ST_CANNOT_PERFORM);
    if (tpsd_op_status(op, 10, "PROGRESS_PROCESS_PROFILE") < 0)
        return tpsd_op_err(op, TPSD_ST_CONN_LOST);

    uid = op->user[0] ? op->user : k->cuid_hex;
    for (int i = 0; i < 2; i++) {
        unsigned priv = 2 * (unsigned)(i + 1), pub = priv + 1; /* cert 1: keys 2/3, cert 2: 4/5 */
        if (tpsd_op_status(op, i == 0 ? 15 : 50, "PROGRESS_KEY_GENERATION") < 0) {
            rc = tpsd_op_err(op, TPSD_ST_CONN_LOST);
            goto out;
        }
        if (i == 1 && op->type == TT_USERKEY_ARCHIVE)
            rc = tpsd_keygen_server(op, priv, pub, &keys[i], &recovered);
        else
            rc = tpsd_keygen_card(op, priv, pub, &keys[i]);
        if (rc)
            goto out;
        der[i] = tpsd_issue_cert(op, &keys[i], i + 1, uid, op->user_cn[0] ? op->user_cn : uid,
                                 &der_len[i]);
        if (!der[i]) {
            rc = TPSD_ST_CA_RESPONSE;
            goto out;
        }
        certs[i] =
            (struct z0_cert){.der = der[i],
                             .der_len = der_len[i],
                             .label = i == 0 ? "Signing Certificate" : "Encryption Certificate",
                             .cert_index = (unsigned)(i + 1),
                             .usage = i == 0 ? Z0_SIGNING : Z0_ENCRYPTION};
    }
    /* a new channel for the object writes (TE writeFinalPKCS11ObjectToToken) */
    if (tpsd_card_open_channel(k) < 0) {
        rc = tpsd_op_err(op, TPSD_ST_SECURE_CHANNEL);
        goto out;
    }
    if (tpsd_op_status(op, 92, "PROGRESS_WRITE_OBJECTS") < 0) {
        rc = tpsd_op_err(op, TPSD_ST_CONN_LOST);
        goto out;
    }
    rc = tpsd_write_z0(op, certs, 2, version);
    if (rc)
        goto out;
    rc = tpsd_op_finish_personalization(op);
    if (rc)
        goto out;
    op->token.certs[0] = '\0';
    tpsd_note_cert(op, der[0], der_len[0]);
    tpsd_note_cert(op, der[1], der_len[1]);
    rc = tpsd_op_save_token(op, TS_ACTIVE, op->user);
    if (rc == 0 && op->type == TT_USERKEY_ARCHIVE)
        tpsd_log(op->id, "encryption key %s", recovered ? "recovered" : "archived");
    if (rc == 0 && tpsd_op_status(op, 100, "PROGRESS_DONE_ENROLLMENT") < 0)
        rc = tpsd_op_err(op, TPSD_ST_CONN_LOST);
out:
    free(der[0]);
    free(der[1]);
    return rc;
}
