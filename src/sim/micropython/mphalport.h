// MicroPython's hardware abstraction for the simulated module: what the port implements in port.c.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "bootrig_mp.h"

static inline mp_uint_t mp_hal_ticks_ms(void) { return (mp_uint_t)(bootrig_host_ticks_us() / 1000); }
static inline mp_uint_t mp_hal_ticks_us(void) { return (mp_uint_t)bootrig_host_ticks_us(); }
static inline mp_uint_t mp_hal_ticks_cpu(void) { return (mp_uint_t)bootrig_host_ticks_us() * 160; }
void mp_hal_set_interrupt_char(int c);
