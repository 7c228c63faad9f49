// Pycom's utime module (esp32/mods/modutime.c): ticks since the last hard reset, sleeps that block the chip's
// thread, and wall time from the RTC, which every hard reset sets back to 1970-01-01.
#include "port.h"
#include "py/mphal.h"
#include "py/runtime.h"
#include "py/smallint.h"

#define TICKS_PERIOD (MICROPY_PY_TIME_TICKS_PERIOD)

// Days since 1970-01-01 from a civil date and back (proleptic Gregorian, any year).
int64_t bootrig_days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void bootrig_civil_from_days(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

static mp_obj_t broken_down(int64_t secs) {
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  int y, m, d;
  bootrig_civil_from_days(days, &y, &m, &d);
  mp_obj_t t[8] = {
      mp_obj_new_int(y),
      mp_obj_new_int(m),
      mp_obj_new_int(d),
      mp_obj_new_int((mp_int_t)(rem / 3600)),
      mp_obj_new_int((mp_int_t)(rem / 60 % 60)),
      mp_obj_new_int((mp_int_t)(rem % 60)),
      mp_obj_new_int((mp_int_t)(((days % 7) + 7 + 3) % 7)),  // 1970-01-01 was a Thursday; Monday is 0
      mp_obj_new_int((mp_int_t)(days - bootrig_days_from_civil(y, 1, 1) + 1)),
  };
  return mp_obj_new_tuple(8, t);
}

static mp_obj_t time_localtime(size_t n_args, const mp_obj_t* args) {
  int64_t secs = (n_args == 0 || args[0] == mp_const_none) ? bootrig_host_rtc_us() / 1000000
                                                           : (int64_t)mp_obj_get_int(args[0]);
  return broken_down(secs);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(time_localtime_obj, 0, 1, time_localtime);

static mp_obj_t time_mktime(mp_obj_t tuple) {
  size_t len;
  mp_obj_t* elem;
  mp_obj_get_array(tuple, &len, &elem);
  if (len < 8 || len > 9) mp_raise_TypeError(MP_ERROR_TEXT("mktime needs a tuple of length 8 or 9"));
  int64_t days =
      bootrig_days_from_civil(mp_obj_get_int(elem[0]), mp_obj_get_int(elem[1]), mp_obj_get_int(elem[2]));
  return mp_obj_new_int_from_ll(days * 86400 + mp_obj_get_int(elem[3]) * 3600 + mp_obj_get_int(elem[4]) * 60 +
                                mp_obj_get_int(elem[5]));
}
static MP_DEFINE_CONST_FUN_OBJ_1(time_mktime_obj, time_mktime);

static mp_obj_t time_time(void) { return mp_obj_new_int_from_ll(bootrig_host_rtc_us() / 1000000); }
static MP_DEFINE_CONST_FUN_OBJ_0(time_time_obj, time_time);

static mp_obj_t time_sleep(mp_obj_t seconds) {
  mp_float_t s = mp_obj_get_float(seconds);
  if (s > 0) mp_hal_delay_us((mp_uint_t)(s * 1000000));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(time_sleep_obj, time_sleep);

static mp_obj_t time_sleep_ms(mp_obj_t ms) {
  mp_int_t n = mp_obj_get_int(ms);
  if (n > 0) mp_hal_delay_ms((mp_uint_t)n);
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(time_sleep_ms_obj, time_sleep_ms);

static mp_obj_t time_sleep_us(mp_obj_t us) {
  mp_int_t n = mp_obj_get_int(us);
  if (n > 0) mp_hal_delay_us((mp_uint_t)n);
  return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_1(bootrig_time_sleep_us_obj, time_sleep_us);  // also machine.Timer.sleep_us

static mp_obj_t time_ticks_ms(void) { return MP_OBJ_NEW_SMALL_INT(mp_hal_ticks_ms() & (TICKS_PERIOD - 1)); }
static MP_DEFINE_CONST_FUN_OBJ_0(time_ticks_ms_obj, time_ticks_ms);
static mp_obj_t time_ticks_us(void) { return MP_OBJ_NEW_SMALL_INT(mp_hal_ticks_us() & (TICKS_PERIOD - 1)); }
static MP_DEFINE_CONST_FUN_OBJ_0(time_ticks_us_obj, time_ticks_us);
static mp_obj_t time_ticks_cpu(void) { return MP_OBJ_NEW_SMALL_INT(mp_hal_ticks_cpu() & (TICKS_PERIOD - 1)); }
static MP_DEFINE_CONST_FUN_OBJ_0(time_ticks_cpu_obj, time_ticks_cpu);

static mp_obj_t time_ticks_diff(mp_obj_t end_in, mp_obj_t start_in) {
  mp_uint_t diff =
      (mp_obj_get_int_truncated(end_in) - mp_obj_get_int_truncated(start_in)) & (TICKS_PERIOD - 1);
  mp_int_t d = (mp_int_t)diff;
  if (d >= TICKS_PERIOD / 2) d -= TICKS_PERIOD;
  return MP_OBJ_NEW_SMALL_INT(d);
}
static MP_DEFINE_CONST_FUN_OBJ_2(time_ticks_diff_obj, time_ticks_diff);

static mp_obj_t time_ticks_add(mp_obj_t ticks_in, mp_obj_t delta_in) {
  return MP_OBJ_NEW_SMALL_INT((mp_obj_get_int_truncated(ticks_in) + mp_obj_get_int_truncated(delta_in)) &
                              (TICKS_PERIOD - 1));
}
static MP_DEFINE_CONST_FUN_OBJ_2(time_ticks_add_obj, time_ticks_add);

// Seconds; utime.timezone() is RAM state of the running interpreter (0 until set).
MP_REGISTER_ROOT_POINTER(mp_obj_t bootrig_timezone);

static mp_obj_t time_timezone(size_t n_args, const mp_obj_t* args) {
  if (n_args == 0)
    return MP_STATE_VM(bootrig_timezone) ? MP_STATE_VM(bootrig_timezone) : MP_OBJ_NEW_SMALL_INT(0);
  MP_STATE_VM(bootrig_timezone) = mp_obj_new_int(mp_obj_get_int(args[0]));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(time_timezone_obj, 0, 1, time_timezone);

static const mp_rom_map_elem_t time_module_globals_table[] = {
    {MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_utime)},
    {MP_ROM_QSTR(MP_QSTR_localtime), MP_ROM_PTR(&time_localtime_obj)},
    {MP_ROM_QSTR(MP_QSTR_gmtime), MP_ROM_PTR(&time_localtime_obj)},
    {MP_ROM_QSTR(MP_QSTR_mktime), MP_ROM_PTR(&time_mktime_obj)},
    {MP_ROM_QSTR(MP_QSTR_time), MP_ROM_PTR(&time_time_obj)},
    {MP_ROM_QSTR(MP_QSTR_sleep), MP_ROM_PTR(&time_sleep_obj)},
    {MP_ROM_QSTR(MP_QSTR_sleep_ms), MP_ROM_PTR(&time_sleep_ms_obj)},
    {MP_ROM_QSTR(MP_QSTR_sleep_us), MP_ROM_PTR(&bootrig_time_sleep_us_obj)},
    {MP_ROM_QSTR(MP_QSTR_ticks_ms), MP_ROM_PTR(&time_ticks_ms_obj)},
    {MP_ROM_QSTR(MP_QSTR_ticks_us), MP_ROM_PTR(&time_ticks_us_obj)},
    {MP_ROM_QSTR(MP_QSTR_ticks_cpu), MP_ROM_PTR(&time_ticks_cpu_obj)},
    {MP_ROM_QSTR(MP_QSTR_ticks_diff), MP_ROM_PTR(&time_ticks_diff_obj)},
    {MP_ROM_QSTR(MP_QSTR_ticks_add), MP_ROM_PTR(&time_ticks_add_obj)},
    {MP_ROM_QSTR(MP_QSTR_timezone), MP_ROM_PTR(&time_timezone_obj)},
};
static MP_DEFINE_CONST_DICT(time_module_globals, time_module_globals_table);

const mp_obj_module_t bootrig_module_time = {
    .base = {&mp_type_module},
    .globals = (mp_obj_dict_t*)&time_module_globals,
};
MP_REGISTER_EXTENSIBLE_MODULE(MP_QSTR_time, bootrig_module_time);
