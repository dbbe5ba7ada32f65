/* ipc_card: probe facts <-> IPC_CARD (see ipc_card.h). */
#include "ipc_card.h"

#include "tps_msg.h" /* tps_hexval */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void hex_of(const uint8_t *b, size_t n, char *out, size_t cap)
{
    size_t pos = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && pos + 3 <= cap; i++)
        pos += (size_t)snprintf(out + pos, cap - pos, "%02X", b[i]);
}

/* Hex text into at most cap bytes; the byte count, or -1. */
static long hex_to(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = tps_hexval((unsigned char)s[2 * i]), lo = tps_hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

/* A received string into a fact's buffer; too long for it: refused (a probe never gives it). */
static bool copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

void ipc_card_from_facts(const struct probe_facts *f, struct ipc_msg *m)
{
    char atr[IPC_ATR_HEX_MAX + 1];

    ipc_msg_init(m, IPC_CARD);
    ipc_set_str(m, IPC_F_READER, f->reader);
    ipc_set_num(m, IPC_F_CODE, f->err < ESC_ERR__COUNT ? (uint32_t)f->err : ESC_ERR_INTERNAL);
    ipc_set_num(m, IPC_F_STATE, (uint32_t)f->state);
    if (f->atr_len) {
        hex_of(f->atr, f->atr_len < PCSC_ATR_MAX ? f->atr_len : PCSC_ATR_MAX, atr, sizeof atr);
        ipc_set_str(m, IPC_F_ATR, atr);
    }
    if (f->have_cuid)
        ipc_set_str(m, IPC_F_CUID, f->cuid_hex);
    if (f->applet_version[0])
        ipc_set_str(m, IPC_F_APPLET, f->applet_version);
    if (f->life_cycle >= 0 && f->life_cycle <= 0xFF)
        ipc_set_num(m, IPC_F_LIFE, (uint32_t)f->life_cycle);
    if (f->pin_tries_left >= 0 && f->pin_tries_left <= 0xFF)
        ipc_set_num(m, IPC_F_TRIES, (uint32_t)f->pin_tries_left);
    if (f->phone_home_url[0])
        ipc_set_str(m, IPC_F_URL, f->phone_home_url);
    ipc_set_num(m, IPC_F_NCERTS, f->ncerts < 0xFFFF ? (uint32_t)f->ncerts : 0xFFFF);
    if (f->not_after)
        ipc_set_time(m, IPC_F_NOT_AFTER, f->not_after);
    if (f->subject[0])
        ipc_set_str(m, IPC_F_SUBJECT, f->subject);
    if (f->issuer[0])
        ipc_set_str(m, IPC_F_ISSUER, f->issuer);
    ipc_set_num(m, IPC_F_ELAPSED, f->elapsed_ms);
}

esc_err ipc_card_to_facts(const struct ipc_msg *m, struct probe_facts *f)
{
    long n;

    memset(f, 0, sizeof *f);
    f->life_cycle = f->pin_tries_left = -1;
    if (m->type != IPC_CARD || m->state > PROBE_ERROR)
        return ESC_ERR_PROTOCOL;
    f->state = (enum probe_state)m->state;
    f->err = (esc_err)m->code;
    if (!copy_str(f->reader, sizeof f->reader, m->reader) ||
        !copy_str(f->applet_version, sizeof f->applet_version, m->applet) ||
        !copy_str(f->phone_home_url, sizeof f->phone_home_url, m->url) ||
        !copy_str(f->subject, sizeof f->subject, m->subject) ||
        !copy_str(f->issuer, sizeof f->issuer, m->issuer))
        return ESC_ERR_PROTOCOL;
    if (ipc_has(m, IPC_F_ATR)) {
        if ((n = hex_to(m->atr, f->atr, sizeof f->atr)) < 0)
            return ESC_ERR_PROTOCOL;
        f->atr_len = (size_t)n;
    }
    if (ipc_has(m, IPC_F_CUID)) {
        if (strlen(m->cuid) != 2 * CK_CUID_LEN || hex_to(m->cuid, f->cuid, sizeof f->cuid) < 0)
            return ESC_ERR_PROTOCOL;
        f->have_cuid = true;
        memcpy(f->cuid_hex, m->cuid, sizeof f->cuid_hex);
    }
    if (ipc_has(m, IPC_F_LIFE))
        f->life_cycle = m->life;
    if (ipc_has(m, IPC_F_TRIES))
        f->pin_tries_left = m->tries;
    f->ncerts = m->ncerts;
    f->not_after = m->not_after;
    f->elapsed_ms = m->elapsed_ms;
    return ESC_OK;
}
