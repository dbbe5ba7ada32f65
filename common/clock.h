/* clock: the one monotonic millisecond clock every deadline in common/ is measured on. */
#ifndef ESC_CLOCK_H
#define ESC_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds (never jumps with the wall clock). */
uint64_t esc_mono_ms(void);

#endif
