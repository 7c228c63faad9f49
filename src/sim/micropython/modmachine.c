// Pycom's umachine module (esp32/mods/modmachine.c and the mach*.c classes): resets and their causes, deep
// sleep, Pin on the simulated wires, Timer alarms and chronos, the watchdog, RTC, UART and SD, on the board.
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/runtime.h"
#include "py/stream.h"

int64_t bootrig_days_from_civil(int64_t y, int64_t m, int64_t d);
void bootrig_civil_from_days(int64_t z, int* y, int* m, int* d);
mp_obj_t bootrig_mp_sd_bdev(void);

// ---------------------------------------------------------------------------------------------------------
// Module functions

static mp_obj_t machine_reset(void) {
  bootrig_host_machine_reset();
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(machine_reset_obj, machine_reset);

static mp_obj_t machine_reset_cause(void) { return MP_OBJ_NEW_SMALL_INT(bootrig_host_reset_cause()); }
static MP_DEFINE_CONST_FUN_OBJ_0(machine_reset_cause_obj, machine_reset_cause);

static mp_obj_t machine_wake_reason(void) {
  mp_obj_t t[2] = {MP_OBJ_NEW_SMALL_INT(bootrig_host_wake_reason()), mp_const_none};
  return mp_obj_new_tuple(2, t);
}
static MP_DEFINE_CONST_FUN_OBJ_0(machine_wake_reason_obj, machine_wake_reason);

static mp_obj_t machine_deepsleep(size_t n_args, const mp_obj_t* args) {
  mp_int_t ms = n_args > 0 ? mp_obj_get_int(args[0]) : 0;
  if (ms < 0) mp_raise_ValueError(MP_ERROR_TEXT("invalid argument(s) value"));
  bootrig_host_deepsleep((uint64_t)ms);
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(machine_deepsleep_obj, 0, 1, machine_deepsleep);

// The module's eFuse MAC: the same six bytes its ROM loader reports to esptool.
static mp_obj_t machine_unique_id(void) {
  unsigned char id[16];
  size_t n = bootrig_host_unique_id(id, sizeof id);
  return mp_obj_new_bytes(id, n);
}
static MP_DEFINE_CONST_FUN_OBJ_0(machine_unique_id_obj, machine_unique_id);

static mp_obj_t machine_freq(void) { return mp_obj_new_int(160000000); }
static MP_DEFINE_CONST_FUN_OBJ_0(machine_freq_obj, machine_freq);

static mp_obj_t machine_idle(void) {
  mp_hal_delay_us(1000);  // until the next tick interrupt
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(machine_idle_obj, machine_idle);

static mp_obj_t machine_main(mp_obj_t path) {
  bootrig_host_set_main(mp_obj_str_get_str(path));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(machine_main_obj, machine_main);

static mp_obj_t machine_disable_irq(void) { return mp_obj_new_int(0); }
static MP_DEFINE_CONST_FUN_OBJ_0(machine_disable_irq_obj, machine_disable_irq);
static mp_obj_t machine_enable_irq(size_t n_args, const mp_obj_t* args) {
  (void)n_args;
  (void)args;
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(machine_enable_irq_obj, 0, 1, machine_enable_irq);

static mp_obj_t machine_rng(void) {
  uint32_t r;
  bootrig_host_random((uint8_t*)&r, sizeof r);
  return mp_obj_new_int(r & 0xFFFFFF);
}
static MP_DEFINE_CONST_FUN_OBJ_0(machine_rng_obj, machine_rng);

// ---------------------------------------------------------------------------------------------------------
// Pin (machpin.c): 'P0'..'P23'. Inputs read the module's wires (P12, P2) or their pull; outputs keep what
// was written, which the board sees.

typedef struct {
  mp_obj_base_t base;
  qstr name;
  mp_int_t mode, pull;
  int value;  // driven level of an output
} machine_pin_obj_t;

enum { PIN_IN = 1, PIN_OUT = 2, PIN_OPEN_DRAIN = 7, PIN_PULL_UP = 1, PIN_PULL_DOWN = 2 };

static int pin_level(machine_pin_obj_t* self) {
  if (self->mode == PIN_OUT) return self->value;
  int wire = bootrig_host_pin_read(qstr_str(self->name));
  if (wire >= 0) return wire;
  return self->pull == PIN_PULL_UP ? 1 : 0;
}

static void pin_init(machine_pin_obj_t* self, size_t n_args, const mp_obj_t* pos, mp_map_t* kw) {
  enum { ARG_mode, ARG_pull, ARG_value, ARG_alt };
  static const mp_arg_t allowed[] = {
      {MP_QSTR_mode, MP_ARG_OBJ, {.u_obj = MP_OBJ_NEW_SMALL_INT(PIN_IN)}},
      {MP_QSTR_pull, MP_ARG_OBJ, {.u_obj = mp_const_none}},
      {MP_QSTR_value, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none}},
      {MP_QSTR_alt, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = -1}},
  };
  mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
  mp_arg_parse_all(n_args, pos, kw, MP_ARRAY_SIZE(allowed), allowed, a);
  mp_int_t mode = mp_obj_get_int(a[ARG_mode].u_obj);
  if (mode != PIN_IN && mode != PIN_OUT && mode != PIN_OPEN_DRAIN)
    mp_raise_ValueError(MP_ERROR_TEXT("invalid argument(s) value"));
  self->mode = mode;
  self->pull = a[ARG_pull].u_obj == mp_const_none ? 0 : mp_obj_get_int(a[ARG_pull].u_obj);
  if (a[ARG_value].u_obj != mp_const_none) self->value = mp_obj_is_true(a[ARG_value].u_obj);
  if (self->mode != PIN_IN) bootrig_host_pin_write(qstr_str(self->name), self->value);
}

static mp_obj_t pin_make_new(const mp_obj_type_t* type, size_t n_args, size_t n_kw, const mp_obj_t* args) {
  mp_arg_check_num(n_args, n_kw, 1, MP_OBJ_FUN_ARGS_MAX, true);
  const char* name = mp_obj_str_get_str(args[0]);
  int n = -1;
  if (name[0] == 'P' && name[1] >= '0' && name[1] <= '9') n = atoi(name + 1);
  if (n < 0 || n > 23) mp_raise_ValueError(MP_ERROR_TEXT("invalid pin"));
  machine_pin_obj_t* self = mp_obj_malloc(machine_pin_obj_t, type);
  self->name = qstr_from_str(name);
  self->value = 0;
  mp_map_t kw;
  mp_map_init_fixed_table(&kw, n_kw, args + n_args);
  pin_init(self, n_args - 1, args + 1, &kw);
  return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t pin_value(size_t n_args, const mp_obj_t* args) {
  machine_pin_obj_t* self = MP_OBJ_TO_PTR(args[0]);
  if (n_args == 1) return MP_OBJ_NEW_SMALL_INT(pin_level(self));
  self->value = mp_obj_is_true(args[1]);
  if (self->mode != PIN_IN) bootrig_host_pin_write(qstr_str(self->name), self->value);
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(pin_value_obj, 1, 2, pin_value);

static mp_obj_t pin_call(mp_obj_t self, size_t n_args, size_t n_kw, const mp_obj_t* args) {
  mp_arg_check_num(n_args, n_kw, 0, 1, false);
  mp_obj_t all[2] = {self, n_args ? args[0] : MP_OBJ_NULL};
  return pin_value(n_args + 1, all);
}

static mp_obj_t pin_init_method(size_t n_args, const mp_obj_t* args, mp_map_t* kw) {
  pin_init(MP_OBJ_TO_PTR(args[0]), n_args - 1, args + 1, kw);
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(pin_init_obj, 1, pin_init_method);

static mp_obj_t pin_toggle(mp_obj_t self_in) {
  machine_pin_obj_t* self = MP_OBJ_TO_PTR(self_in);
  self->value = !self->value;
  if (self->mode != PIN_IN) bootrig_host_pin_write(qstr_str(self->name), self->value);
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(pin_toggle_obj, pin_toggle);

static mp_obj_t pin_id(mp_obj_t self_in) {
  machine_pin_obj_t* self = MP_OBJ_TO_PTR(self_in);
  return MP_OBJ_NEW_QSTR(self->name);
}
static MP_DEFINE_CONST_FUN_OBJ_1(pin_id_obj, pin_id);

static mp_obj_t pin_mode(size_t n_args, const mp_obj_t* args) {
  machine_pin_obj_t* self = MP_OBJ_TO_PTR(args[0]);
  if (n_args == 1) return MP_OBJ_NEW_SMALL_INT(self->mode);
  self->mode = mp_obj_get_int(args[1]);
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(pin_mode_obj, 1, 2, pin_mode);

static mp_obj_t pin_pull(size_t n_args, const mp_obj_t* args) {
  machine_pin_obj_t* self = MP_OBJ_TO_PTR(args[0]);
  if (n_args == 1) return self->pull ? MP_OBJ_NEW_SMALL_INT(self->pull) : mp_const_none;
  self->pull = args[1] == mp_const_none ? 0 : mp_obj_get_int(args[1]);
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(pin_pull_obj, 1, 2, pin_pull);

static mp_obj_t pin_hold(size_t n_args, const mp_obj_t* args) {
  (void)args;
  return n_args == 1 ? mp_const_false : mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(pin_hold_obj, 1, 2, pin_hold);

static void pin_print(const mp_print_t* print, mp_obj_t self_in, mp_print_kind_t kind) {
  (void)kind;
  machine_pin_obj_t* self = MP_OBJ_TO_PTR(self_in);
  const char* mode = self->mode == PIN_OUT          ? "Pin.OUT"
                     : self->mode == PIN_OPEN_DRAIN ? "Pin.OPEN_DRAIN"
                                                    : "Pin.IN";
  const char* pull = self->pull == PIN_PULL_UP     ? "Pin.PULL_UP"
                     : self->pull == PIN_PULL_DOWN ? "Pin.PULL_DOWN"
                                                   : "None";
  mp_printf(print, "Pin('%q', mode=%s, pull=%s, alt=-1)", self->name, mode, pull);
}

static const mp_rom_map_elem_t pin_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_init), MP_ROM_PTR(&pin_init_obj)},
    {MP_ROM_QSTR(MP_QSTR_value), MP_ROM_PTR(&pin_value_obj)},
    {MP_ROM_QSTR(MP_QSTR_toggle), MP_ROM_PTR(&pin_toggle_obj)},
    {MP_ROM_QSTR(MP_QSTR_id), MP_ROM_PTR(&pin_id_obj)},
    {MP_ROM_QSTR(MP_QSTR_mode), MP_ROM_PTR(&pin_mode_obj)},
    {MP_ROM_QSTR(MP_QSTR_pull), MP_ROM_PTR(&pin_pull_obj)},
    {MP_ROM_QSTR(MP_QSTR_hold), MP_ROM_PTR(&pin_hold_obj)},
    {MP_ROM_QSTR(MP_QSTR_IN), MP_ROM_INT(PIN_IN)},
    {MP_ROM_QSTR(MP_QSTR_OUT), MP_ROM_INT(PIN_OUT)},
    {MP_ROM_QSTR(MP_QSTR_OPEN_DRAIN), MP_ROM_INT(PIN_OPEN_DRAIN)},
    {MP_ROM_QSTR(MP_QSTR_PULL_UP), MP_ROM_INT(PIN_PULL_UP)},
    {MP_ROM_QSTR(MP_QSTR_PULL_DOWN), MP_ROM_INT(PIN_PULL_DOWN)},
    {MP_ROM_QSTR(MP_QSTR_IRQ_RISING), MP_ROM_INT(1)},
    {MP_ROM_QSTR(MP_QSTR_IRQ_FALLING), MP_ROM_INT(2)},
    {MP_ROM_QSTR(MP_QSTR_IRQ_LOW_LEVEL), MP_ROM_INT(4)},
    {MP_ROM_QSTR(MP_QSTR_IRQ_HIGH_LEVEL), MP_ROM_INT(5)},
};
static MP_DEFINE_CONST_DICT(pin_locals, pin_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(machine_pin_type, MP_QSTR_Pin, MP_TYPE_FLAG_NONE, make_new, pin_make_new, print,
                         pin_print, call, pin_call, locals_dict, &pin_locals);

// ---------------------------------------------------------------------------------------------------------
// Timer (machtimer.c, machtimer_alarm.c, machtimer_chrono.c). Alarms are kept in a root-pointer list and
// fall due on the chip's clock; their handlers run through the scheduler, as the firmware's do.

typedef struct {
  mp_obj_base_t base;
  uint64_t interval_us, due_us;
  mp_obj_t handler, arg;
  bool periodic, active;
} machine_alarm_obj_t;

typedef struct {
  mp_obj_base_t base;
  uint64_t started_us, accumulated_us;
  bool running;
} machine_chrono_obj_t;

MP_REGISTER_ROOT_POINTER(mp_obj_t bootrig_alarms);

static mp_obj_t alarm_list(void) {
  if (MP_STATE_VM(bootrig_alarms) == MP_OBJ_NULL) MP_STATE_VM(bootrig_alarms) = mp_obj_new_list(0, NULL);
  return MP_STATE_VM(bootrig_alarms);
}

int64_t bootrig_mp_alarm_wait_us(void) {
  if (MP_STATE_VM(bootrig_alarms) == MP_OBJ_NULL) return -1;
  size_t n;
  mp_obj_t* items;
  mp_obj_list_get(MP_STATE_VM(bootrig_alarms), &n, &items);
  if (n == 0) return -1;
  uint64_t now = bootrig_host_ticks_us(), next = UINT64_MAX;
  for (size_t i = 0; i < n; ++i) {
    machine_alarm_obj_t* a = MP_OBJ_TO_PTR(items[i]);
    if (a->due_us < next) next = a->due_us;
  }
  return next <= now ? 0 : (int64_t)(next - now);
}

void bootrig_mp_alarm_fire(void) {
  mp_obj_t list = MP_STATE_VM(bootrig_alarms);
  if (list == MP_OBJ_NULL) return;
  uint64_t now = bootrig_host_ticks_us();
  size_t n;
  mp_obj_t* items;
  mp_obj_list_get(list, &n, &items);
  for (size_t i = 0; i < n;) {
    machine_alarm_obj_t* a = MP_OBJ_TO_PTR(items[i]);
    if (a->due_us > now) {
      ++i;
      continue;
    }
    if (a->handler != mp_const_none)
      mp_sched_schedule(a->handler, a->arg == mp_const_none ? MP_OBJ_FROM_PTR(a) : a->arg);
    if (a->periodic) {
      a->due_us += a->interval_us;
      if (a->due_us <= now) a->due_us = now + a->interval_us;  // callbacks too slow: skip missed periods
      ++i;
    } else {
      a->active = false;
      mp_obj_list_remove(list, items[i]);
      mp_obj_list_get(list, &n, &items);
    }
  }
}

static const mp_obj_type_t machine_alarm_type;

static mp_obj_t alarm_make_new(const mp_obj_type_t* type, size_t n_args, size_t n_kw, const mp_obj_t* args) {
  enum { ARG_handler, ARG_s, ARG_ms, ARG_us, ARG_arg, ARG_periodic };
  static const mp_arg_t allowed[] = {
      {MP_QSTR_handler, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = mp_const_none}},
      {MP_QSTR_s, MP_ARG_OBJ, {.u_obj = mp_const_none}},
      {MP_QSTR_ms, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none}},
      {MP_QSTR_us, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none}},
      {MP_QSTR_arg, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_obj = mp_const_none}},
      {MP_QSTR_periodic, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false}},
  };
  mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
  mp_map_t kw;
  mp_map_init_fixed_table(&kw, n_kw, args + n_args);
  mp_arg_parse_all(n_args, args, &kw, MP_ARRAY_SIZE(allowed), allowed, a);
  mp_float_t us = -1;
  if (a[ARG_s].u_obj != mp_const_none)
    us = mp_obj_get_float(a[ARG_s].u_obj) * 1000000;
  else if (a[ARG_ms].u_obj != mp_const_none)
    us = mp_obj_get_float(a[ARG_ms].u_obj) * 1000;
  else if (a[ARG_us].u_obj != mp_const_none)
    us = mp_obj_get_float(a[ARG_us].u_obj);
  if (us < 0) mp_raise_ValueError(MP_ERROR_TEXT("invalid argument(s) value"));
  machine_alarm_obj_t* self = mp_obj_malloc(machine_alarm_obj_t, type);
  self->interval_us = (uint64_t)us;
  self->due_us = bootrig_host_ticks_us() + self->interval_us;
  self->handler = a[ARG_handler].u_obj;
  self->arg = a[ARG_arg].u_obj;
  self->periodic = a[ARG_periodic].u_bool;
  self->active = true;
  mp_obj_list_append(alarm_list(), MP_OBJ_FROM_PTR(self));
  return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t alarm_callback(size_t n_args, const mp_obj_t* args, mp_map_t* kw) {
  machine_alarm_obj_t* self = MP_OBJ_TO_PTR(args[0]);
  self->handler = n_args > 1 ? args[1] : mp_const_none;
  mp_map_elem_t* arg = mp_map_lookup(kw, MP_OBJ_NEW_QSTR(MP_QSTR_arg), MP_MAP_LOOKUP);
  self->arg = n_args > 2 ? args[2] : arg ? arg->value : mp_const_none;
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(alarm_callback_obj, 1, alarm_callback);

static mp_obj_t alarm_cancel(mp_obj_t self_in) {
  machine_alarm_obj_t* self = MP_OBJ_TO_PTR(self_in);
  if (self->active) {
    self->active = false;
    mp_obj_list_remove(alarm_list(), self_in);
  }
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(alarm_cancel_obj, alarm_cancel);

static const mp_rom_map_elem_t alarm_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_callback), MP_ROM_PTR(&alarm_callback_obj)},
    {MP_ROM_QSTR(MP_QSTR_cancel), MP_ROM_PTR(&alarm_cancel_obj)},
};
static MP_DEFINE_CONST_DICT(alarm_locals, alarm_locals_table);
static MP_DEFINE_CONST_OBJ_TYPE(machine_alarm_type, MP_QSTR_Alarm, MP_TYPE_FLAG_NONE, make_new,
                                alarm_make_new, locals_dict, &alarm_locals);

static uint64_t chrono_us(machine_chrono_obj_t* self) {
  return self->accumulated_us + (self->running ? bootrig_host_ticks_us() - self->started_us : 0);
}

static mp_obj_t chrono_make_new(const mp_obj_type_t* type, size_t n_args, size_t n_kw, const mp_obj_t* args) {
  mp_arg_check_num(n_args, n_kw, 0, 0, false);
  (void)args;
  machine_chrono_obj_t* self = mp_obj_malloc(machine_chrono_obj_t, type);
  self->started_us = self->accumulated_us = 0;
  self->running = false;
  return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t chrono_start(mp_obj_t self_in) {
  machine_chrono_obj_t* self = MP_OBJ_TO_PTR(self_in);
  if (!self->running) {
    self->started_us = bootrig_host_ticks_us();
    self->running = true;
  }
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(chrono_start_obj, chrono_start);

static mp_obj_t chrono_stop(mp_obj_t self_in) {
  machine_chrono_obj_t* self = MP_OBJ_TO_PTR(self_in);
  self->accumulated_us = chrono_us(self);
  self->running = false;
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(chrono_stop_obj, chrono_stop);

static mp_obj_t chrono_reset(mp_obj_t self_in) {
  machine_chrono_obj_t* self = MP_OBJ_TO_PTR(self_in);
  self->accumulated_us = 0;
  self->started_us = bootrig_host_ticks_us();
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(chrono_reset_obj, chrono_reset);

static mp_obj_t chrono_read(mp_obj_t self_in) {
  return mp_obj_new_float((mp_float_t)chrono_us(MP_OBJ_TO_PTR(self_in)) / 1000000);
}
static MP_DEFINE_CONST_FUN_OBJ_1(chrono_read_obj, chrono_read);
static mp_obj_t chrono_read_ms(mp_obj_t self_in) {
  return mp_obj_new_float((mp_float_t)chrono_us(MP_OBJ_TO_PTR(self_in)) / 1000);
}
static MP_DEFINE_CONST_FUN_OBJ_1(chrono_read_ms_obj, chrono_read_ms);
static mp_obj_t chrono_read_us(mp_obj_t self_in) {
  return mp_obj_new_int_from_ull(chrono_us(MP_OBJ_TO_PTR(self_in)));
}
static MP_DEFINE_CONST_FUN_OBJ_1(chrono_read_us_obj, chrono_read_us);

static const mp_rom_map_elem_t chrono_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_start), MP_ROM_PTR(&chrono_start_obj)},
    {MP_ROM_QSTR(MP_QSTR_stop), MP_ROM_PTR(&chrono_stop_obj)},
    {MP_ROM_QSTR(MP_QSTR_reset), MP_ROM_PTR(&chrono_reset_obj)},
    {MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&chrono_read_obj)},
    {MP_ROM_QSTR(MP_QSTR_read_ms), MP_ROM_PTR(&chrono_read_ms_obj)},
    {MP_ROM_QSTR(MP_QSTR_read_us), MP_ROM_PTR(&chrono_read_us_obj)},
};
static MP_DEFINE_CONST_DICT(chrono_locals, chrono_locals_table);
static MP_DEFINE_CONST_OBJ_TYPE(machine_chrono_type, MP_QSTR_Chrono, MP_TYPE_FLAG_NONE, make_new,
                                chrono_make_new, locals_dict, &chrono_locals);

extern const mp_obj_fun_builtin_fixed_t bootrig_time_sleep_us_obj;  // utime.sleep_us (modtime.c)
static MP_DEFINE_CONST_STATICMETHOD_OBJ(timer_sleep_us_obj, MP_ROM_PTR(&bootrig_time_sleep_us_obj));

static const mp_rom_map_elem_t timer_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_Alarm), MP_ROM_PTR(&machine_alarm_type)},
    {MP_ROM_QSTR(MP_QSTR_Chrono), MP_ROM_PTR(&machine_chrono_type)},
    {MP_ROM_QSTR(MP_QSTR_sleep_us), MP_ROM_PTR(&timer_sleep_us_obj)},
};
static MP_DEFINE_CONST_DICT(timer_locals, timer_locals_table);
static MP_DEFINE_CONST_OBJ_TYPE(machine_timer_type, MP_QSTR_Timer, MP_TYPE_FLAG_NONE, locals_dict,
                                &timer_locals);

// ---------------------------------------------------------------------------------------------------------
// WDT (machwdt.c): once started it cannot be stopped; not fed in time, the chip resets with WDT_RESET.

typedef struct {
  mp_obj_base_t base;
} machine_wdt_obj_t;

static mp_obj_t wdt_init_helper(size_t n_args, const mp_obj_t* pos, mp_map_t* kw) {
  enum { ARG_id, ARG_timeout };
  static const mp_arg_t allowed[] = {
      {MP_QSTR_id, MP_ARG_INT, {.u_int = 0}},
      {MP_QSTR_timeout, MP_ARG_KW_ONLY | MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
  };
  mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
  mp_arg_parse_all(n_args, pos, kw, MP_ARRAY_SIZE(allowed), allowed, a);
  if (a[ARG_id].u_int != 0) mp_raise_OSError(MP_ENODEV);
  if (a[ARG_timeout].u_int <= 0) mp_raise_ValueError(MP_ERROR_TEXT("WDT timeout too short"));
  bootrig_host_wdt_start((uint64_t)a[ARG_timeout].u_int);
  return mp_const_none;
}

static mp_obj_t wdt_make_new(const mp_obj_type_t* type, size_t n_args, size_t n_kw, const mp_obj_t* args) {
  mp_map_t kw;
  mp_map_init_fixed_table(&kw, n_kw, args + n_args);
  wdt_init_helper(n_args, args, &kw);
  machine_wdt_obj_t* self = mp_obj_malloc(machine_wdt_obj_t, type);
  return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t wdt_init(size_t n_args, const mp_obj_t* args, mp_map_t* kw) {
  return wdt_init_helper(n_args - 1, args + 1, kw);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(wdt_init_obj, 1, wdt_init);

static mp_obj_t wdt_feed(mp_obj_t self) {
  (void)self;
  bootrig_host_wdt_feed();
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(wdt_feed_obj, wdt_feed);

static const mp_rom_map_elem_t wdt_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_init), MP_ROM_PTR(&wdt_init_obj)},
    {MP_ROM_QSTR(MP_QSTR_feed), MP_ROM_PTR(&wdt_feed_obj)},
};
static MP_DEFINE_CONST_DICT(wdt_locals, wdt_locals_table);
static MP_DEFINE_CONST_OBJ_TYPE(machine_wdt_type, MP_QSTR_WDT, MP_TYPE_FLAG_NONE, make_new, wdt_make_new,
                                locals_dict, &wdt_locals);

// ---------------------------------------------------------------------------------------------------------
// RTC (machrtc.c): kept by a soft reset, set back to 1970-01-01 by a hard one.

typedef struct {
  mp_obj_base_t base;
} machine_rtc_obj_t;

static const mp_obj_type_t machine_rtc_type;
static const machine_rtc_obj_t rtc_obj = {{&machine_rtc_type}};

static mp_obj_t rtc_init(size_t n_args, const mp_obj_t* args, mp_map_t* kw) {
  mp_obj_t datetime = n_args > 1 ? args[1] : mp_const_none;
  mp_map_elem_t* e = mp_map_lookup(kw, MP_OBJ_NEW_QSTR(MP_QSTR_datetime), MP_MAP_LOOKUP);
  if (e) datetime = e->value;
  if (datetime == mp_const_none) {
    bootrig_host_set_rtc_us(0);
    return mp_const_none;
  }
  size_t n;
  mp_obj_t* items;
  mp_obj_get_array(datetime, &n, &items);
  if (n < 3) mp_raise_ValueError(MP_ERROR_TEXT("invalid argument(s) value"));
  mp_int_t v[7] = {0, 1, 1, 0, 0, 0, 0};
  for (size_t i = 0; i < n && i < 7; ++i)
    if (items[i] != mp_const_none) v[i] = mp_obj_get_int(items[i]);
  int64_t days = bootrig_days_from_civil(v[0], v[1], v[2]);
  bootrig_host_set_rtc_us(((days * 86400) + v[3] * 3600 + v[4] * 60 + v[5]) * 1000000 + v[6]);
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(rtc_init_obj, 1, rtc_init);

static mp_obj_t rtc_make_new(const mp_obj_type_t* type, size_t n_args, size_t n_kw, const mp_obj_t* args) {
  (void)type;
  mp_map_t kw;
  mp_map_init_fixed_table(&kw, n_kw, args + n_args);
  mp_map_elem_t* e = mp_map_lookup(&kw, MP_OBJ_NEW_QSTR(MP_QSTR_datetime), MP_MAP_LOOKUP);
  if (e) {
    mp_obj_t init_args[2] = {MP_OBJ_FROM_PTR(&rtc_obj), e->value};
    rtc_init(2, init_args, (mp_map_t*)&mp_const_empty_map);
  }
  return MP_OBJ_FROM_PTR(&rtc_obj);
}

static mp_obj_t rtc_now(mp_obj_t self) {
  (void)self;
  int64_t us = bootrig_host_rtc_us();
  int64_t secs = us / 1000000, days = secs / 86400, rem = secs % 86400;
  int y, m, d;
  bootrig_civil_from_days(days, &y, &m, &d);
  mp_obj_t t[8] = {mp_obj_new_int(y),
                   mp_obj_new_int(m),
                   mp_obj_new_int(d),
                   mp_obj_new_int((mp_int_t)(rem / 3600)),
                   mp_obj_new_int((mp_int_t)(rem / 60 % 60)),
                   mp_obj_new_int((mp_int_t)(rem % 60)),
                   mp_obj_new_int((mp_int_t)(us % 1000000)),
                   mp_const_none};
  return mp_obj_new_tuple(8, t);
}
static MP_DEFINE_CONST_FUN_OBJ_1(rtc_now_obj, rtc_now);

static mp_obj_t rtc_synced(mp_obj_t self) {
  (void)self;
  return mp_const_false;  // no network: never synchronised by NTP
}
static MP_DEFINE_CONST_FUN_OBJ_1(rtc_synced_obj, rtc_synced);

static const mp_rom_map_elem_t rtc_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_init), MP_ROM_PTR(&rtc_init_obj)},
    {MP_ROM_QSTR(MP_QSTR_now), MP_ROM_PTR(&rtc_now_obj)},
    {MP_ROM_QSTR(MP_QSTR_synced), MP_ROM_PTR(&rtc_synced_obj)},
};
static MP_DEFINE_CONST_DICT(rtc_locals, rtc_locals_table);
static MP_DEFINE_CONST_OBJ_TYPE(machine_rtc_type, MP_QSTR_RTC, MP_TYPE_FLAG_NONE, make_new, rtc_make_new,
                                locals_dict, &rtc_locals);

// ---------------------------------------------------------------------------------------------------------
// UART (machuart.c): UART(0) is the REPL's line; the others have no wire in the simulator.

typedef struct {
  mp_obj_base_t base;
  mp_int_t id, baudrate;
} machine_uart_obj_t;

static mp_obj_t uart_make_new(const mp_obj_type_t* type, size_t n_args, size_t n_kw, const mp_obj_t* args) {
  enum { ARG_id, ARG_baudrate };
  static const mp_arg_t allowed[] = {
      {MP_QSTR_id, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0}},
      {MP_QSTR_baudrate, MP_ARG_INT, {.u_int = 9600}},
  };
  mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
  mp_map_t kw;
  mp_map_init_fixed_table(&kw, n_kw, args + n_args);
  // Other keywords (bits, parity, stop, pins, timeout_chars) are accepted and have no effect here.
  mp_arg_parse_all(n_args > 2 ? 2 : n_args, args, (mp_map_t*)&mp_const_empty_map, MP_ARRAY_SIZE(allowed),
                   allowed, a);
  mp_map_elem_t* b = mp_map_lookup(&kw, MP_OBJ_NEW_QSTR(MP_QSTR_baudrate), MP_MAP_LOOKUP);
  if (a[ARG_id].u_int < 0 || a[ARG_id].u_int > 2)
    mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("UART(%d) does not exist"), (int)a[ARG_id].u_int);
  machine_uart_obj_t* self = mp_obj_malloc(machine_uart_obj_t, type);
  self->id = a[ARG_id].u_int;
  self->baudrate = b ? mp_obj_get_int(b->value) : a[ARG_baudrate].u_int;
  return MP_OBJ_FROM_PTR(self);
}

static mp_uint_t uart_read(mp_obj_t self_in, void* buf, mp_uint_t size, int* errcode) {
  machine_uart_obj_t* self = MP_OBJ_TO_PTR(self_in);
  size_t n = self->id == 0 ? bootrig_host_uart_read(buf, size) : 0;
  if (n == 0) {
    *errcode = MP_EAGAIN;
    return MP_STREAM_ERROR;
  }
  return n;
}

static mp_uint_t uart_write(mp_obj_t self_in, const void* buf, mp_uint_t size, int* errcode) {
  (void)errcode;
  machine_uart_obj_t* self = MP_OBJ_TO_PTR(self_in);
  if (self->id == 0) bootrig_host_uart_write(buf, size);
  return size;
}

static mp_uint_t uart_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg, int* errcode) {
  machine_uart_obj_t* self = MP_OBJ_TO_PTR(self_in);
  if (request == MP_STREAM_POLL) {
    mp_uint_t ret = 0;
    if ((arg & MP_STREAM_POLL_RD) && self->id == 0 && bootrig_host_stdin_any()) ret |= MP_STREAM_POLL_RD;
    if (arg & MP_STREAM_POLL_WR) ret |= MP_STREAM_POLL_WR;
    return ret;
  }
  *errcode = MP_EINVAL;
  return MP_STREAM_ERROR;
}

static mp_obj_t uart_any(mp_obj_t self_in) {
  machine_uart_obj_t* self = MP_OBJ_TO_PTR(self_in);
  return MP_OBJ_NEW_SMALL_INT(self->id == 0 ? (mp_int_t)bootrig_host_stdin_any() : 0);
}
static MP_DEFINE_CONST_FUN_OBJ_1(uart_any_obj, uart_any);

static mp_obj_t uart_deinit(mp_obj_t self_in) {
  (void)self_in;
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(uart_deinit_obj, uart_deinit);

static void uart_print(const mp_print_t* print, mp_obj_t self_in, mp_print_kind_t kind) {
  (void)kind;
  machine_uart_obj_t* self = MP_OBJ_TO_PTR(self_in);
  mp_printf(print, "UART(%d, baudrate=%d, bits=8, parity=None, stop=1)", (int)self->id, (int)self->baudrate);
}

static const mp_rom_map_elem_t uart_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&mp_stream_read_obj)},
    {MP_ROM_QSTR(MP_QSTR_readline), MP_ROM_PTR(&mp_stream_unbuffered_readline_obj)},
    {MP_ROM_QSTR(MP_QSTR_readinto), MP_ROM_PTR(&mp_stream_readinto_obj)},
    {MP_ROM_QSTR(MP_QSTR_write), MP_ROM_PTR(&mp_stream_write_obj)},
    {MP_ROM_QSTR(MP_QSTR_any), MP_ROM_PTR(&uart_any_obj)},
    {MP_ROM_QSTR(MP_QSTR_deinit), MP_ROM_PTR(&uart_deinit_obj)},
};
static MP_DEFINE_CONST_DICT(uart_locals, uart_locals_table);

static const mp_stream_p_t uart_stream_p = {
    .read = uart_read,
    .write = uart_write,
    .ioctl = uart_ioctl,
    .is_text = false,
};

MP_DEFINE_CONST_OBJ_TYPE(bootrig_type_uart, MP_QSTR_UART, MP_TYPE_FLAG_ITER_IS_STREAM, make_new,
                         uart_make_new, print, uart_print, protocol, &uart_stream_p, locals_dict,
                         &uart_locals);

// ---------------------------------------------------------------------------------------------------------
// SD (pybsd.c): the card as a block device for os.mount(); OSError when the board has none.

static mp_obj_t sd_make_new(const mp_obj_type_t* type, size_t n_args, size_t n_kw, const mp_obj_t* args) {
  (void)type;
  (void)n_args;
  (void)n_kw;
  (void)args;
  uint32_t count, size;
  if (bootrig_host_block_count(1, &count, &size) != 0)
    mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("the requested operation failed"));
  return bootrig_mp_sd_bdev();
}
static MP_DEFINE_CONST_OBJ_TYPE(machine_sd_type, MP_QSTR_SD, MP_TYPE_FLAG_NONE, make_new, sd_make_new);

// ---------------------------------------------------------------------------------------------------------

static const mp_rom_map_elem_t machine_module_globals_table[] = {
    {MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_umachine)},
    {MP_ROM_QSTR(MP_QSTR_reset), MP_ROM_PTR(&machine_reset_obj)},
    {MP_ROM_QSTR(MP_QSTR_reset_cause), MP_ROM_PTR(&machine_reset_cause_obj)},
    {MP_ROM_QSTR(MP_QSTR_wake_reason), MP_ROM_PTR(&machine_wake_reason_obj)},
    {MP_ROM_QSTR(MP_QSTR_deepsleep), MP_ROM_PTR(&machine_deepsleep_obj)},
    {MP_ROM_QSTR(MP_QSTR_unique_id), MP_ROM_PTR(&machine_unique_id_obj)},
    {MP_ROM_QSTR(MP_QSTR_freq), MP_ROM_PTR(&machine_freq_obj)},
    {MP_ROM_QSTR(MP_QSTR_idle), MP_ROM_PTR(&machine_idle_obj)},
    {MP_ROM_QSTR(MP_QSTR_main), MP_ROM_PTR(&machine_main_obj)},
    {MP_ROM_QSTR(MP_QSTR_disable_irq), MP_ROM_PTR(&machine_disable_irq_obj)},
    {MP_ROM_QSTR(MP_QSTR_enable_irq), MP_ROM_PTR(&machine_enable_irq_obj)},
    {MP_ROM_QSTR(MP_QSTR_rng), MP_ROM_PTR(&machine_rng_obj)},
    {MP_ROM_QSTR(MP_QSTR_Pin), MP_ROM_PTR(&machine_pin_type)},
    {MP_ROM_QSTR(MP_QSTR_Timer), MP_ROM_PTR(&machine_timer_type)},
    {MP_ROM_QSTR(MP_QSTR_WDT), MP_ROM_PTR(&machine_wdt_type)},
    {MP_ROM_QSTR(MP_QSTR_RTC), MP_ROM_PTR(&machine_rtc_type)},
    {MP_ROM_QSTR(MP_QSTR_UART), MP_ROM_PTR(&bootrig_type_uart)},
    {MP_ROM_QSTR(MP_QSTR_SD), MP_ROM_PTR(&machine_sd_type)},
    {MP_ROM_QSTR(MP_QSTR_PWRON_RESET), MP_ROM_INT(0)},
    {MP_ROM_QSTR(MP_QSTR_HARD_RESET), MP_ROM_INT(1)},
    {MP_ROM_QSTR(MP_QSTR_WDT_RESET), MP_ROM_INT(2)},
    {MP_ROM_QSTR(MP_QSTR_DEEPSLEEP_RESET), MP_ROM_INT(3)},
    {MP_ROM_QSTR(MP_QSTR_SOFT_RESET), MP_ROM_INT(4)},
    {MP_ROM_QSTR(MP_QSTR_BROWN_OUT_RESET), MP_ROM_INT(5)},
    {MP_ROM_QSTR(MP_QSTR_PWRON_WAKE), MP_ROM_INT(0)},
    {MP_ROM_QSTR(MP_QSTR_PIN_WAKE), MP_ROM_INT(1)},
    {MP_ROM_QSTR(MP_QSTR_RTC_WAKE), MP_ROM_INT(2)},
    {MP_ROM_QSTR(MP_QSTR_ULP_WAKE), MP_ROM_INT(3)},
};
static MP_DEFINE_CONST_DICT(machine_module_globals, machine_module_globals_table);

const mp_obj_module_t bootrig_module_machine = {
    .base = {&mp_type_module},
    .globals = (mp_obj_dict_t*)&machine_module_globals,
};
MP_REGISTER_EXTENSIBLE_MODULE(MP_QSTR_machine, bootrig_module_machine);
