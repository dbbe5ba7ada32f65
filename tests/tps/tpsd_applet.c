/* tpsd_applet: the applet (re)install of format and upgrade (tps-protocol.md §8.3 step 4,
 * coolkey-card.md §2.7): DELETE instance and package, INSTALL [for load], LOAD blocks,
 * INSTALL [for install], SELECT. The load file is a short fake: the virtual card only needs
 * the command sequence to reset its applet. */
#include <stdio.h>
#include <string.h>

#include "tpsd_log.h"
#include "tpsd_op.h"

static const uint8_t PKG_AID[6] = {0x62, 0x76, 0x01, 0xFF, 0x00, 0x00};
static const uint8_t INST_AID[7] = {0x62, 0x76, 0x01, 0xFF, 0x00, 0x00, 0x00};

#define LOAD_BLOCK    (224 - 16) /* channel.blocksize minus MAC and encryption padding */
#define FAKE_CAP_LEN  400
#define INSTANCE_SIZE 18000
#define APPLET_MEMORY 5000 /* coolkey-card.md §2.7 default */

static void delete_aid(struct tpsd_op *op, const uint8_t *aid, size_t len)
{
    uint8_t a[7 + 16] = {0x84, 0xE4, 0x00, 0x00, (uint8_t)(len + 2), 0x4F, (uint8_t)len},
                  r[TPSD_RESP_MAX];
    size_t rlen;
    uint16_t sw;
    memcpy(a + 7, aid, len);
    /* a card without the applet answers 6A88: that is fine */
    tpsd_card_secure(&op->card, a, 7 + len, 0, r, &rlen, &sw);
}

static int install_for_load(struct tpsd_op *op, size_t file_len)
{
    uint8_t a[5 + 32] = {0x84, 0xE6, 0x02, 0x00};
    size_t n = 5;
    a[n++] = sizeof(PKG_AID);
    memcpy(a + n, PKG_AID, sizeof(PKG_AID));
    n += sizeof(PKG_AID);
    a[n++] = 0x00; /* security domain AID: none */
    a[n++] = 0x00; /* load file data block hash: none */
    a[n++] = 0x06; /* load parameters: EF 04 C6 02 <non-volatile code size> */
    a[n++] = 0xEF, a[n++] = 0x04, a[n++] = 0xC6, a[n++] = 0x02;
    a[n++] = (uint8_t)(file_len >> 8), a[n++] = (uint8_t)file_len;
    a[n++] = 0x00; /* load token: none */
    a[4] = (uint8_t)(n - 5);
    return tpsd_card_secure_ok(&op->card, a, n, TPSD_ST_UPGRADE_APPLET);
}

static int install_for_install(struct tpsd_op *op)
{
    uint8_t a[5 + 48] = {0x84, 0xE6, 0x0C, 0x00};
    size_t n = 5;
    a[n++] = sizeof(PKG_AID);
    memcpy(a + n, PKG_AID, sizeof(PKG_AID));
    n += sizeof(PKG_AID);
    a[n++] = sizeof(INST_AID); /* applet class AID */
    memcpy(a + n, INST_AID, sizeof(INST_AID));
    n += sizeof(INST_AID);
    a[n++] = sizeof(INST_AID); /* instance AID */
    memcpy(a + n, INST_AID, sizeof(INST_AID));
    n += sizeof(INST_AID);
    a[n++] = 0x01, a[n++] = 0x00; /* privileges */
    /* EF 04 C8 02 <instance size>  C9 04 <issuer info len 0> 02 <applet memory size> */
    a[n++] = 0x0C;
    a[n++] = 0xEF, a[n++] = 0x04, a[n++] = 0xC8, a[n++] = 0x02;
    a[n++] = INSTANCE_SIZE >> 8, a[n++] = INSTANCE_SIZE & 0xFF;
    a[n++] = 0xC9, a[n++] = 0x04, a[n++] = 0x00, a[n++] = 0x02;
    a[n++] = APPLET_MEMORY >> 8, a[n++] = APPLET_MEMORY & 0xFF;
    a[n++] = 0x00; /* install token: none */
    a[4] = (uint8_t)(n - 5);
    return tpsd_card_secure_ok(&op->card, a, n, TPSD_ST_UPGRADE_APPLET);
}

static size_t fake_load_file(uint8_t *out, size_t cap)
{
    static const char text[] = "pam_esc reference TPS: fake CoolKey load file. ";
    size_t n = 0;
    if (cap < FAKE_CAP_LEN + 4)
        return 0;
    out[n++] = 0xC4; /* load file data block, BER length */
    out[n++] = 0x82, out[n++] = FAKE_CAP_LEN >> 8, out[n++] = FAKE_CAP_LEN & 0xFF;
    for (size_t i = 0; i < FAKE_CAP_LEN; i++)
        out[n++] = (uint8_t)text[i % (sizeof(text) - 1)];
    return n;
}

int tpsd_applet_install(struct tpsd_op *op, int from, int to)
{
    uint8_t file[FAKE_CAP_LEN + 8];
    size_t len = fake_load_file(file, sizeof(file)), blocks, off = 0;
    struct tpsd_card *k = &op->card;
    tpsd_log(op->id, "installing applet %s", op->cfg->applet_version);
    if (tpsd_card_select_cm(k) < 0 || tpsd_card_open_channel(k) < 0)
        return tpsd_op_err(op, TPSD_ST_SECURE_CHANNEL);
    delete_aid(op, INST_AID, sizeof(INST_AID));
    delete_aid(op, PKG_AID, sizeof(PKG_AID));
    if (k->err || install_for_load(op, len) < 0)
        return tpsd_op_err(op, TPSD_ST_UPGRADE_APPLET);
    blocks = (len + LOAD_BLOCK - 1) / LOAD_BLOCK;
    for (size_t b = 0; b < blocks; b++) {
        uint8_t a[5 + LOAD_BLOCK] = {0x84, 0xE8};
        size_t n = len - off < LOAD_BLOCK ? len - off : LOAD_BLOCK;
        a[2] = b + 1 == blocks ? 0x80 : 0x00;
        a[3] = (uint8_t)b;
        a[4] = (uint8_t)n;
        memcpy(a + 5, file + off, n);
        if (tpsd_card_secure_ok(k, a, 5 + n, TPSD_ST_UPGRADE_APPLET) < 0)
            return tpsd_op_err(op, TPSD_ST_UPGRADE_APPLET);
        off += n;
        if (tpsd_op_status(op, from + (int)((b + 1) * (size_t)(to - from) / blocks),
                           "PROGRESS_APPLET_BLOCK") < 0)
            return tpsd_op_err(op, TPSD_ST_CONN_LOST);
    }
    if (install_for_install(op) < 0)
        return tpsd_op_err(op, TPSD_ST_UPGRADE_APPLET);
    if (tpsd_card_select_applet(k) != 0) {
        tpsd_log(op->id, "the new applet cannot be selected");
        return tpsd_op_err(op, TPSD_ST_UPGRADE_APPLET);
    }
    k->applet_present = true;
    if (tpsd_card_read_status(k) < 0)
        return tpsd_op_err(op, TPSD_ST_UPGRADE_APPLET);
    tpsd_log(op->id, "applet now %s", k->version);
    return 0;
}
