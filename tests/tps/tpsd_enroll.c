/* tpsd_enroll: ENROLL (tps-protocol.md §8.4, coolkey-card.md §6, TPSEnrollProcessor.enroll):
 * token state and policy checks, new PIN, then either a renewal (an ACTIVE token whose policy
 * allows RENEW: the certificates re-issued for the same keys, tpsd_renew.c) or an enrollment
 * (two key pairs: signing on the card; encryption on the card, or server-side with archival for
 * the userKeyArchive type) with certificates from the test CA, written as a compressed z0;
 * issuer info, life cycle 0F, the token ACTIVE in the DB, then CLEAR KEY SLOTS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "z0.h"
#include "tpsd_keys.h"
#include "tpsd_log.h"
#include "tpsd_op.h"
#include "tpsd_renew.h"
#include "tpsd_z0read.h"

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

/* The token record's state and policy against this enrollment (TPSEnrollProcessor.enroll,
 * before the login): 0, or the END_OP code. *force_format as FORCE_FORMAT / an unknown token. */
static int check_token(struct tpsd_op *op, bool *force_format)
{
    struct tpsd_card *k = &op->card;
    int rc;
    /* a personalized card the DB does not know is adopted (README.md: a deliberate
     * difference, so the rig's provisioned cards can be renewed) */
    if (!op->have_token && k->applet_present && k->lifecycle == 0x0F) {
        rc = tpsd_op_adopt(op);
        if (rc && rc != TPSD_ST_UNKNOWN_TOKEN)
            return rc;
    }
    if (!op->have_token) {
        *force_format = true; /* checkAllowUnknownToken, then do_force_format */
        return 0;
    }
    if (!tpsd_tstatus_op_allowed(op->token.status, TS_ACTIVE)) {
        tpsd_log(op->id, "token is %s: no transition to active",
                 tpsd_tstatus_name(op->token.status));
        return TPSD_ST_DISABLED_TOKEN;
    }
    *force_format = op->policy.force_format || !k->applet_present;
    if (!op->policy.re_enroll && !op->policy.renew) {
        tpsd_log(op->id, "token policy allows neither RE_ENROLL nor RENEW");
        return TPSD_ST_DISABLED_TOKEN;
    }
    return 0;
}

/* Renewal (tpsd_renew.c): the certificates in the card's z0 re-issued for the same keys.
 * 0 with z/certs/der/n filled, or a code. */
static int renew(struct tpsd_op *op, struct tpsd_z0 *z, struct z0_cert *certs, uint8_t **der,
                 size_t *n, uint16_t *version)
{
    size_t renewed = 0;
    int rc = tpsd_read_z0(op, z);
    if (rc == 1) {
        z->n_certs = 0;
        z->data = NULL;
    } else if (rc) {
        return rc;
    }
    *version = (uint16_t)(z->object_version + 1);
    if (tpsd_op_status(op, 10, "PROGRESS_PROCESS_PROFILE") < 0)
        return tpsd_op_err(op, TPSD_ST_CONN_LOST);
    rc = tpsd_renew_certs(op, z, certs, der, &renewed);
    *n = z->n_certs;
    if (rc)
        return rc;
    if (renewed == 0) {
        /* processRenewal returns RENEWAL_FAILED, which enroll turns into MAC_ENROLL_PDU */
        tpsd_log(op->id, "renewal allowed, but no certificate could be renewed");
        return TPSD_ST_MAC_ENROLL_PDU;
    }
    tpsd_log(op->id, "%zu certificate(s) renewed (RENEWAL_IS_PROCESSED)", renewed);
    return 0;
}

/* A new enrollment: two key pairs and their certificates. 0 or a code. */
static int enroll_keys(struct tpsd_op *op, struct z0_cert *certs, uint8_t **der, int *recovered)
{
    struct tpsd_card *k = &op->card;
    struct tpsd_pubkey keys[2];
    const char *uid = op->user[0] ? op->user : k->cuid_hex;
    if (tpsd_op_status(op, 10, "PROGRESS_PROCESS_PROFILE") < 0)
        return tpsd_op_err(op, TPSD_ST_CONN_LOST);
    for (int i = 0; i < 2; i++) {
        unsigned priv = 2 * (unsigned)(i + 1), pub = priv + 1; /* cert 1: keys 2/3, cert 2: 4/5 */
        size_t len = 0;
        int rc;
        if (tpsd_op_status(op, i == 0 ? 15 : 50, "PROGRESS_KEY_GENERATION") < 0)
            return tpsd_op_err(op, TPSD_ST_CONN_LOST);
        if (i == 1 && op->type == TT_USERKEY_ARCHIVE)
            rc = tpsd_keygen_server(op, priv, pub, &keys[i], recovered);
        else
            rc = tpsd_keygen_card(op, priv, pub, &keys[i]);
        if (rc)
            return rc;
        der[i] =
            tpsd_issue_cert(op, &keys[i], i + 1, uid, op->user_cn[0] ? op->user_cn : uid, &len);
        if (!der[i])
            return TPSD_ST_CA_RESPONSE;
        certs[i] =
            (struct z0_cert){.der = der[i],
                             .der_len = len,
                             .label = i == 0 ? "Signing Certificate" : "Encryption Certificate",
                             .cert_index = (unsigned)(i + 1),
                             .usage = i == 0 ? Z0_SIGNING : Z0_ENCRYPTION};
    }
    return 0;
}

int tpsd_enroll(struct tpsd_op *op)
{
    struct tpsd_card *k = &op->card;
    struct tpsd_z0 z = {0};
    struct z0_cert certs[TPSD_Z0_MAX_CERTS];
    uint8_t *der[TPSD_Z0_MAX_CERTS] = {NULL};
    size_t n = 2;
    uint16_t version = 0;
    bool force_format = false, renewal;
    int rc, recovered = 0;

    if (k->applet_present)
        tpsd_card_get_lifecycle(k);
    rc = check_token(op, &force_format);
    if (rc)
        return rc;
    /* Login before anything is written: Dogtag force-formats an unknown token first, but a
     * wrong password must leave the card as it was (a deliberate difference, README.md). */
    rc = tpsd_op_login(op, OI_ENROLL);
    if (rc)
        return rc;
    if (op->have_token && op->token.status == TS_ACTIVE && op->token.owner[0] && op->user[0] &&
        strcmp(op->token.owner, op->user) != 0) {
        tpsd_log(op->id, "token belongs to '%s', not '%s'", op->token.owner, op->user);
        return TPSD_ST_NOT_TOKEN_OWNER;
    }
    /* generateCertsAfterRenewalRecoveryPolicy: an ACTIVE token is renewed when its policy
     * allows RENEW, re-enrolled (new keys) otherwise */
    renewal = op->have_token && op->token.status == TS_ACTIVE && op->policy.renew && !force_format;
    if (force_format) {
        tpsd_log(op->id, "%s: formatting first",
                 op->have_token && k->applet_present ? "FORCE_FORMAT"
                                                     : "unknown token or no applet");
        rc = tpsd_format(op, true);
        if (rc)
            return rc;
    }
    rc = personalize(op);
    if (rc)
        return rc;
    if (renewal) {
        rc = renew(op, &z, certs, der, &n, &version);
    } else {
        version = next_object_version(op);
        rc = k->err ? tpsd_op_err(op, TPSD_ST_CANNOT_PERFORM)
                    : enroll_keys(op, certs, der, &recovered);
    }
    if (rc)
        goto out;
    /* a new channel for the object writes (TE writeFinalPKCS11ObjectToToken) */
    if (tpsd_card_open_channel(k) < 0) {
        rc = tpsd_op_err(op, TPSD_ST_SECURE_CHANNEL);
        goto out;
    }
    if (tpsd_op_status(op, 92, "PROGRESS_WRITE_OBJECTS") < 0) {
        rc = tpsd_op_err(op, TPSD_ST_CONN_LOST);
        goto out;
    }
    rc = tpsd_write_z0(op, certs, n, version);
    if (rc)
        goto out;
    rc = tpsd_op_finish_personalization(op);
    if (rc)
        goto out;
    op->token.certs[0] = '\0';
    for (size_t i = 0; i < n; i++)
        tpsd_note_cert(op, certs[i].der, certs[i].der_len);
    /* ACTIVE before the key slots are cleared, as enroll() does: a client lost after this
     * point leaves an active token */
    rc = tpsd_op_save_token(op, TS_ACTIVE, op->user[0] ? op->user : op->token.owner);
    if (rc)
        goto out;
    if (op->type == TT_USERKEY_ARCHIVE && !renewal)
        tpsd_log(op->id, "encryption key %s", recovered ? "recovered" : "archived");
    tpsd_op_clear_key_slots(op);
    if (tpsd_op_status(op, 100, "PROGRESS_DONE_ENROLLMENT") < 0)
        rc = tpsd_op_err(op, TPSD_ST_CONN_LOST);
out:
    for (size_t i = 0; i < TPSD_Z0_MAX_CERTS; i++)
        free(der[i]);
    if (renewal)
        tpsd_z0_free(&z);
    return rc;
}
