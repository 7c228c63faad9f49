// What the port's C files share among themselves (not seen by the board).
#pragma once

#include <stdint.h>

#include "bootrig_mp.h"

int bootrig_mp_profile(void);  // BOOTRIG_MP_PROFILE_* of the interpreter this thread runs
// The terminal's next byte; -1 when an exception or a due timer callback is pending instead.
int bootrig_mp_stdin_rx(void);
// Blocks until `end` (bootrig_host_ticks_us time), Ctrl-C or a timer callback falling due.
void bootrig_mp_sleep_until(uint64_t end);
void bootrig_mp_after_exec(void* ret_val, int* ret);
// machine.Timer alarms (modmachine.c): microseconds until the next one is due (< 0: none), and scheduling
// the callbacks of those that are due.
int64_t bootrig_mp_alarm_wait_us(void);
void bootrig_mp_alarm_fire(void);
// help()'s text for the profile (help.c).
void bootrig_mp_set_help_text(int profile);
