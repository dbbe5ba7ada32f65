/* ops: the one table of card operations. See ops.h. */
#include "ops.h"

#include "tps_msg.h"

#include <string.h>
#include <strings.h>

static const struct esc_op ops[] = {
    {TPS_OP_ENROLL, "enroll", "enroll", CONF_OP_ENROLL, TPS_OP_ENROLL, "Enrolling your smart card",
     "the card was enrolled"},
    {TPS_OP_RESET_PIN, "pinreset", "reset-pin", CONF_OP_PINRESET, TPS_OP_RESET_PIN,
     "Resetting your smart card PIN", "the PIN was reset"},
    {TPS_OP_RENEW, "renew", "renew", CONF_OP_RENEW, TPS_OP_ENROLL, "Renewing your smart card",
     "the certificates were renewed"},
    {TPS_OP_FORMAT, "format", "format", CONF_OP_FORMAT, TPS_OP_FORMAT, "Formatting your smart card",
     "the card was formatted"},
};
#define NOPS (sizeof ops / sizeof ops[0])

#define SEP " \t,"

const struct esc_op *esc_op_get(int op)
{
    for (size_t i = 0; i < NOPS; i++)
        if (ops[i].op == op)
            return &ops[i];
    return NULL;
}

static bool same(const char *word, const char *name, size_t len)
{
    return strlen(word) == len && strncasecmp(word, name, len) == 0;
}

const struct esc_op *esc_op_find(const char *name, size_t len)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < NOPS; i++)
        if (same(ops[i].word, name, len) || same(ops[i].command, name, len))
            return &ops[i];
    return NULL;
}

int esc_op_parse(const char *name)
{
    const struct esc_op *o = name ? esc_op_find(name, strlen(name)) : NULL;
    return o ? o->op : -1;
}

int esc_ops_parse(const char *list, unsigned *bits)
{
    unsigned v = 0;
    if (!list)
        return -1;
    for (const char *p = list + strspn(list, SEP); *p; p += strspn(p, SEP)) {
        size_t n = strcspn(p, SEP);
        const struct esc_op *o = esc_op_find(p, n);
        if (o)
            v |= o->bit;
        else if (!same("none", p, n))
            return -1;
        p += n;
    }
    *bits = v;
    return 0;
}

int esc_op_for_state(enum probe_state s)
{
    switch (s) {
    case PROBE_NO_APPLET:
    case PROBE_UNINITIALIZED:
        return TPS_OP_ENROLL;
    case PROBE_PIN_LOCKED:
        return TPS_OP_RESET_PIN;
    case PROBE_EXPIRED:
        return TPS_OP_RENEW;
    default: /* NO_PCSCD, NO_READER, NO_CARD, ENROLLED, ERROR */
        return 0;
    }
}

const char *esc_op_word(int op)
{
    const struct esc_op *o = esc_op_get(op);
    return o ? o->word : "unknown";
}

const char *esc_op_command(int op)
{
    const struct esc_op *o = esc_op_get(op);
    return o ? o->command : "unknown";
}
