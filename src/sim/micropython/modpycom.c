// Pycom's pycom module (esp32/mods/modpycom.c): the heartbeat and RGB LED, the boot manager, OTA into the
// other slot, and the NVS key store that survives resets and updates, all on the board.
#include <string.h>

#include "port.h"
#include "py/mperrno.h"
#include "py/runtime.h"

static mp_obj_t pycom_heartbeat(size_t n_args, const mp_obj_t* args) {
  if (n_args == 0) return mp_obj_new_bool(bootrig_host_heartbeat(-1));
  bootrig_host_heartbeat(mp_obj_is_true(args[0]));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(pycom_heartbeat_obj, 0, 1, pycom_heartbeat);

static mp_obj_t pycom_heartbeat_on_boot(size_t n_args, const mp_obj_t* args) {
  if (n_args == 0) return mp_obj_new_bool(bootrig_host_heartbeat_on_boot(-1));
  bootrig_host_heartbeat_on_boot(mp_obj_is_true(args[0]));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(pycom_heartbeat_on_boot_obj, 0, 1, pycom_heartbeat_on_boot);

static mp_obj_t pycom_rgbled(mp_obj_t colour) {
  if (!bootrig_host_rgbled((uint32_t)mp_obj_get_int_truncated(colour) & 0xFFFFFF))
    mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("the requested operation is not possible"));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(pycom_rgbled_obj, pycom_rgbled);

static mp_obj_t pycom_bootmgr(size_t n_args, const mp_obj_t* pos, mp_map_t* kw) {
  enum { ARG_boot_partition, ARG_fs_type, ARG_safeboot, ARG_reset };
  static const mp_arg_t allowed[] = {
      {MP_QSTR_boot_partition, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 255}},
      {MP_QSTR_fs_type, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 255}},
      {MP_QSTR_safeboot, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 255}},
      {MP_QSTR_reset, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false}},
  };
  mp_arg_val_t a[MP_ARRAY_SIZE(allowed)];
  mp_arg_parse_all(n_args, pos, kw, MP_ARRAY_SIZE(allowed), allowed, a);
  char out[128];
  int r = bootrig_host_bootmgr((int)a[ARG_boot_partition].u_int, (int)a[ARG_fs_type].u_int,
                               (int)a[ARG_safeboot].u_int, a[ARG_reset].u_bool, out, sizeof out);
  if (r > 0) mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s"), out);
  if (out[0] == '\0') return mp_const_none;
  // The query: four lines, e.g. "Factory\nLittleFS\nSafeBoot: False\nStatus: Ready".
  mp_obj_t items[4];
  const char* s = out;
  for (int i = 0; i < 4; ++i) {
    const char* e = strchr(s, '\n');
    size_t len = e ? (size_t)(e - s) : strlen(s);
    items[i] = mp_obj_new_str(s, len);
    s = e ? e + 1 : s + len;
  }
  return mp_obj_new_tuple(4, items);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(pycom_bootmgr_obj, 0, pycom_bootmgr);

static mp_obj_t pycom_ota_slot(void) { return mp_obj_new_int_from_uint(bootrig_host_ota_slot()); }
static MP_DEFINE_CONST_FUN_OBJ_0(pycom_ota_slot_obj, pycom_ota_slot);

static mp_obj_t ota_check(int ok) {
  if (!ok) mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("the requested operation failed"));
  return mp_const_none;
}

static mp_obj_t pycom_ota_start(void) { return ota_check(bootrig_host_ota_start()); }
static MP_DEFINE_CONST_FUN_OBJ_0(pycom_ota_start_obj, pycom_ota_start);

static mp_obj_t pycom_ota_write(mp_obj_t data) {
  mp_buffer_info_t buf;
  mp_get_buffer_raise(data, &buf, MP_BUFFER_READ);
  return ota_check(bootrig_host_ota_write(buf.buf, buf.len));
}
static MP_DEFINE_CONST_FUN_OBJ_1(pycom_ota_write_obj, pycom_ota_write);

static mp_obj_t pycom_ota_finish(void) {
  ota_check(bootrig_host_ota_finish());
  mp_printf(&mp_plat_print, "Full Update Image detected. Restart the device to load the new firmware.\n");
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(pycom_ota_finish_obj, pycom_ota_finish);

static mp_obj_t pycom_ota_verify(void) { return mp_obj_new_bool(bootrig_host_ota_verify()); }
static MP_DEFINE_CONST_FUN_OBJ_0(pycom_ota_verify_obj, pycom_ota_verify);

// NVS: 32-bit integers by key (firmware 1.20 keeps integers; strings came with later releases).
static mp_obj_t pycom_nvs_set(mp_obj_t key, mp_obj_t value) {
  if (!mp_obj_is_int(value)) mp_raise_ValueError(MP_ERROR_TEXT("Value must be string, bytes or integer"));
  int err = bootrig_host_nvs_set(mp_obj_str_get_str(key), (uint32_t)mp_obj_get_int_truncated(value));
  if (err == MP_ENOSPC) mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("No free space available"));
  if (err) mp_raise_ValueError(MP_ERROR_TEXT("Key is too long"));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(pycom_nvs_set_obj, pycom_nvs_set);

static mp_obj_t pycom_nvs_get(size_t n_args, const mp_obj_t* args) {
  uint32_t value;
  if (bootrig_host_nvs_get(mp_obj_str_get_str(args[0]), &value) == 0) return mp_obj_new_int_from_uint(value);
  if (n_args > 1) return args[1];
  mp_raise_ValueError(MP_ERROR_TEXT("No matching object for the provided key"));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(pycom_nvs_get_obj, 1, 2, pycom_nvs_get);

static mp_obj_t pycom_nvs_erase(mp_obj_t key) {
  if (bootrig_host_nvs_erase(mp_obj_str_get_str(key)) != 0)
    mp_raise_msg(&mp_type_KeyError, MP_ERROR_TEXT("key not found"));
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(pycom_nvs_erase_obj, pycom_nvs_erase);

static mp_obj_t pycom_nvs_erase_all(void) {
  bootrig_host_nvs_erase_all();
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(pycom_nvs_erase_all_obj, pycom_nvs_erase_all);

static const mp_rom_map_elem_t pycom_module_globals_table[] = {
    {MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_pycom)},
    {MP_ROM_QSTR(MP_QSTR_heartbeat), MP_ROM_PTR(&pycom_heartbeat_obj)},
    {MP_ROM_QSTR(MP_QSTR_heartbeat_on_boot), MP_ROM_PTR(&pycom_heartbeat_on_boot_obj)},
    {MP_ROM_QSTR(MP_QSTR_rgbled), MP_ROM_PTR(&pycom_rgbled_obj)},
    {MP_ROM_QSTR(MP_QSTR_bootmgr), MP_ROM_PTR(&pycom_bootmgr_obj)},
    {MP_ROM_QSTR(MP_QSTR_ota_slot), MP_ROM_PTR(&pycom_ota_slot_obj)},
    {MP_ROM_QSTR(MP_QSTR_ota_start), MP_ROM_PTR(&pycom_ota_start_obj)},
    {MP_ROM_QSTR(MP_QSTR_ota_write), MP_ROM_PTR(&pycom_ota_write_obj)},
    {MP_ROM_QSTR(MP_QSTR_ota_finish), MP_ROM_PTR(&pycom_ota_finish_obj)},
    {MP_ROM_QSTR(MP_QSTR_ota_verify), MP_ROM_PTR(&pycom_ota_verify_obj)},
    {MP_ROM_QSTR(MP_QSTR_nvs_set), MP_ROM_PTR(&pycom_nvs_set_obj)},
    {MP_ROM_QSTR(MP_QSTR_nvs_get), MP_ROM_PTR(&pycom_nvs_get_obj)},
    {MP_ROM_QSTR(MP_QSTR_nvs_erase), MP_ROM_PTR(&pycom_nvs_erase_obj)},
    {MP_ROM_QSTR(MP_QSTR_nvs_erase_all), MP_ROM_PTR(&pycom_nvs_erase_all_obj)},
    {MP_ROM_QSTR(MP_QSTR_FACTORY), MP_ROM_INT(0)},
    {MP_ROM_QSTR(MP_QSTR_OTA_0), MP_ROM_INT(1)},
    {MP_ROM_QSTR(MP_QSTR_FAT), MP_ROM_INT(0)},
    {MP_ROM_QSTR(MP_QSTR_LittleFS), MP_ROM_INT(1)},
};
static MP_DEFINE_CONST_DICT(pycom_module_globals, pycom_module_globals_table);

const mp_obj_module_t bootrig_module_pycom = {
    .base = {&mp_type_module},
    .globals = (mp_obj_dict_t*)&pycom_module_globals,
};
MP_REGISTER_MODULE(MP_QSTR_pycom, bootrig_module_pycom);
