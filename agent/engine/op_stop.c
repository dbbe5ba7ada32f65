/* op_stop: cancel and overall deadline of one operation. See op_stop.h. */
#include "op_stop.h"

#include "clock.h"

void op_stop_init(struct op_stop *s, uint64_t deadline_ms)
{
    atomic_init(&s->why, ESC_OK);
    s->deadline_ms = deadline_ms;
    pthread_mutex_init(&s->mu, NULL);
    s->pc = NULL;
}

void op_stop_destroy(struct op_stop *s)
{
    pthread_mutex_destroy(&s->mu);
}

static void stop_as(struct op_stop *s, esc_err why)
{
    int run = ESC_OK;
    (void)atomic_compare_exchange_strong(&s->why, &run, (int)why);
}

void op_stop_cancel(struct op_stop *s)
{
    stop_as(s, ESC_ERR_CANCELLED);
    pthread_mutex_lock(&s->mu);
    pcsc_abort(s->pc); /* NULL-safe */
    pthread_mutex_unlock(&s->mu);
}

esc_err op_stop_check(struct op_stop *s)
{
    if (!s)
        return ESC_OK;
    if (atomic_load(&s->why) == ESC_OK && s->deadline_ms && esc_mono_ms() >= s->deadline_ms)
        stop_as(s, ESC_ERR_TIMEOUT);
    return (esc_err)atomic_load(&s->why);
}

unsigned op_stop_left_ms(const struct op_stop *s, unsigned dflt)
{
    uint64_t now = esc_mono_ms();
    if (!s || !s->deadline_ms)
        return dflt;
    if (now >= s->deadline_ms)
        return 1;
    return s->deadline_ms - now < dflt ? (unsigned)(s->deadline_ms - now) : dflt;
}

void op_stop_attach(struct op_stop *s, pcsc_ctx *pc)
{
    pthread_mutex_lock(&s->mu);
    s->pc = pc;
    pthread_mutex_unlock(&s->mu);
    if (pc && atomic_load(&s->why) == ESC_ERR_CANCELLED)
        pcsc_abort(pc); /* cancelled before the context existed */
}
