/* tpsd_session: BEGIN_OP, the operation, END_OP. */
#include "tpsd_session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpsd_log.h"
#include "tpsd_stats.h"

static void count_op(int op)
{
    tpsd_stats_add(ST_OPERATIONS, 1);
    switch (op) {
    case TPS_OP_ENROLL:
        tpsd_stats_add(ST_OP_ENROLL, 1);
        break;
    case TPS_OP_FORMAT:
        tpsd_stats_add(ST_OP_FORMAT, 1);
        break;
    case TPS_OP_RESET_PIN:
        tpsd_stats_add(ST_OP_RESET_PIN, 1);
        break;
    case TPS_OP_RENEW:
        tpsd_stats_add(ST_OP_RENEW, 1);
        break;
    default:
        tpsd_stats_add(ST_OP_OTHER, 1);
    }
}

static int send_end_op(struct tpsd_conv *conv, int op, int result, int message)
{
    struct tps_enc e;
    tps_enc_init(&e, TPS_MSG_END_OP);
    tps_enc_int(&e, "operation", op);
    tps_enc_int(&e, "result", result);
    if (message != TPSD_END_OP_NO_MESSAGE)
        tps_enc_int(&e, "message", message);
    tpsd_stats_add(result ? ST_END_ERROR : ST_END_OK, 1);
    return tpsd_conv_send(conv, &e);
}

/* The flood fault: requests without end, each answered by the client in turn, until it stops
 * answering (or a bound that no client should let the server reach). */
static void flood(struct tpsd_conv *conv, int kind)
{
    /* SELECT of the card manager, Dogtag's first APDU (TPSProcessor.selectCardManager) */
    static const uint8_t select_cm[] = {0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0,
                                        0x00, 0x00, 0x00, 0x03, 0x00, 0x00};
    unsigned long n = 0;
    tpsd_log(conv->conn->id, "fault: flooding the client with %s requests",
             kind == TPSD_FLOOD_PDU ? "TOKEN_PDU" : "STATUS_UPDATE");
    for (; n < 1000000; n++) {
        struct tps_enc e;
        struct tps_msg m;
        int want =
            kind == TPSD_FLOOD_PDU ? TPS_MSG_TOKEN_PDU_RESPONSE : TPS_MSG_STATUS_UPDATE_RESPONSE;
        if (kind == TPSD_FLOOD_PDU) {
            tps_enc_init(&e, TPS_MSG_TOKEN_PDU_REQUEST);
            tps_enc_int(&e, "pdu_size", (long)sizeof(select_cm));
            tps_enc_bytes(&e, "pdu_data", select_cm, sizeof(select_cm));
        } else {
            tps_enc_init(&e, TPS_MSG_STATUS_UPDATE_REQUEST);
            tps_enc_int(&e, "current_state", 10);
            tps_enc_text(&e, "next_task_name", "PROGRESS_FLOOD", TPS_TEXT_JAVA);
        }
        if (tpsd_conv_exchange(conv, &e, &m, want) < 0)
            break;
    }
    tpsd_log(conv->conn->id, "fault: the client stopped answering after %lu flood requests", n);
}

bool tpsd_session_run(const struct tpsd_ctx *ctx, struct tpsd_conn *conn,
                      const struct tpsd_faults *faults, const char *initial, size_t initial_len)
{
    struct tpsd_conv *conv = calloc(1, sizeof(*conv));
    struct tpsd_op *op = calloc(1, sizeof(*op));
    struct tps_msg *begin = calloc(1, sizeof(*begin));
    long long t0 = tpsd_now_ms();
    bool reusable = false;
    long opcode = 0;
    int code, result;
    if (!conv || !op || !begin)
        goto out;
    tpsd_conv_init(conv, conn, faults, (int)ctx->cfg->msg_timeout_s * 1000, initial, initial_len);
    if (tpsd_conv_recv(conv, begin) < 0)
        goto out;
    if (begin->type != TPS_MSG_BEGIN_OP) {
        tpsd_log(conn->id, "first message is %s, not BEGIN_OP: dropping the connection",
                 tps_msg_type_name(begin->type));
        goto out;
    }
    tps_msg_long(begin, "operation", 0, 99, &opcode);
    count_op((int)opcode);
    if (faults->end_op != -1) {
        tpsd_log(conn->id, "fault: answering END_OP result=%d message=%d at once",
                 faults->end_op_result, faults->end_op);
        send_end_op(conv, (int)opcode, faults->end_op_result, faults->end_op);
        goto finish;
    }
    if (faults->flood) {
        flood(conv, faults->flood);
        goto out;
    }
    op->ctx = ctx;
    op->cfg = ctx->cfg;
    op->conv = conv;
    op->id = conn->id;
    tpsd_card_init(&op->card, conv, conn->id);
    op->card.no_le_byte = ctx->cfg->no_le_byte;
    code = tpsd_op_run(op, begin);
    result = code != 0;
    if (code < 0)
        code = 0; /* an operation Dogtag does not implement: result 1, message 0 */
    if (conv->failed) {
        tpsd_log(conn->id, "%s ended without END_OP after %lld ms (%u APDUs)",
                 tps_op_name((int)opcode), tpsd_now_ms() - t0, op->card.apdus);
        goto out;
    }
    if (send_end_op(conv, (int)opcode, result, code) < 0)
        goto out;
    tpsd_log(conn->id, "%s %s: END_OP result=%d message=%d (%s), %u APDUs, %lld ms",
             tps_op_name((int)opcode), result ? "failed" : "done", result, code,
             tps_status_name(code), op->card.apdus, tpsd_now_ms() - t0);
finish:
    tpsd_conv_finish(conv);
    reusable = !conv->failed && conv->client_ended;
out:
    if (op) {
        explicit_bzero(op, sizeof(*op));
        free(op);
    }
    if (begin) {
        tps_msg_wipe(begin);
        free(begin);
    }
    if (conv) {
        explicit_bzero(conv, sizeof(*conv));
        free(conv);
    }
    return reusable;
}
