// Pycom's uos module (esp32/mods/moduos.c) over MicroPython's VFS: /flash (FAT, or LittleFS when the config
// block says so) and /sd on the board's simulated block devices, fsformat, getfree, dupterm and the running
// image's uname.
#include <string.h>

#include "extmod/vfs.h"
#include "extmod/vfs_fat.h"
#include "extmod/vfs_lfs.h"
#include "port.h"
#include "py/mperrno.h"
#include "py/objtuple.h"
#include "py/runtime.h"
#include "py/stream.h"

// ---------------------------------------------------------------------------------------------------------
// Block devices: the flash partition of the filesystem and the SD card, held by the board so that they
// survive resets. MicroPython's block protocol (readblocks/writeblocks with offset, ioctl).

typedef struct {
  mp_obj_base_t base;
  int dev;
} bootrig_bdev_obj_t;

static mp_obj_t bdev_rw(size_t n_args, const mp_obj_t* args, bool write) {
  bootrig_bdev_obj_t* self = MP_OBJ_TO_PTR(args[0]);
  mp_buffer_info_t buf;
  mp_get_buffer_raise(args[2], &buf, write ? MP_BUFFER_READ : MP_BUFFER_WRITE);
  uint32_t block = (uint32_t)mp_obj_get_int(args[1]);
  uint32_t offset = n_args > 3 ? (uint32_t)mp_obj_get_int(args[3]) : 0;
  int err = write ? bootrig_host_block_write(self->dev, block, offset, buf.buf, buf.len)
                  : bootrig_host_block_read(self->dev, block, offset, buf.buf, buf.len);
  return MP_OBJ_NEW_SMALL_INT(err);
}

static mp_obj_t bdev_readblocks(size_t n_args, const mp_obj_t* args) { return bdev_rw(n_args, args, false); }
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(bdev_readblocks_obj, 3, 4, bdev_readblocks);
static mp_obj_t bdev_writeblocks(size_t n_args, const mp_obj_t* args) { return bdev_rw(n_args, args, true); }
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(bdev_writeblocks_obj, 3, 4, bdev_writeblocks);

static mp_obj_t bdev_ioctl(mp_obj_t self_in, mp_obj_t op_in, mp_obj_t arg_in) {
  bootrig_bdev_obj_t* self = MP_OBJ_TO_PTR(self_in);
  uint32_t count = 0, size = 0;
  bootrig_host_block_count(self->dev, &count, &size);
  switch (mp_obj_get_int(op_in)) {
    case MP_BLOCKDEV_IOCTL_BLOCK_COUNT:
      return mp_obj_new_int_from_uint(count);
    case MP_BLOCKDEV_IOCTL_BLOCK_SIZE:
      return mp_obj_new_int_from_uint(size);
    case MP_BLOCKDEV_IOCTL_BLOCK_ERASE:
      return MP_OBJ_NEW_SMALL_INT(bootrig_host_block_erase(self->dev, (uint32_t)mp_obj_get_int(arg_in)));
    default:  // init, deinit, sync: nothing to do for memory that is written through
      return MP_OBJ_NEW_SMALL_INT(0);
  }
}
static MP_DEFINE_CONST_FUN_OBJ_3(bdev_ioctl_obj, bdev_ioctl);

static const mp_rom_map_elem_t bdev_locals_table[] = {
    {MP_ROM_QSTR(MP_QSTR_readblocks), MP_ROM_PTR(&bdev_readblocks_obj)},
    {MP_ROM_QSTR(MP_QSTR_writeblocks), MP_ROM_PTR(&bdev_writeblocks_obj)},
    {MP_ROM_QSTR(MP_QSTR_ioctl), MP_ROM_PTR(&bdev_ioctl_obj)},
};
static MP_DEFINE_CONST_DICT(bdev_locals, bdev_locals_table);

static void bdev_print(const mp_print_t* print, mp_obj_t self_in, mp_print_kind_t kind) {
  (void)kind;
  bootrig_bdev_obj_t* self = MP_OBJ_TO_PTR(self_in);
  mp_printf(print, self->dev == 0 ? "<Flash>" : "<SD>");
}

MP_DEFINE_CONST_OBJ_TYPE(bootrig_type_bdev, MP_QSTR_BlockDevice, MP_TYPE_FLAG_NONE, print, bdev_print,
                         locals_dict, &bdev_locals);

static const bootrig_bdev_obj_t flash_bdev = {{&bootrig_type_bdev}, 0};
static const bootrig_bdev_obj_t sd_bdev = {{&bootrig_type_bdev}, 1};

mp_obj_t bootrig_mp_sd_bdev(void) { return MP_OBJ_FROM_PTR(&sd_bdev); }

// ---------------------------------------------------------------------------------------------------------
// Mounting at boot (mptask_init_sflash_filesystem)

static const mp_obj_type_t* fs_type_of(int fs_type) {
  return fs_type == BOOTRIG_MP_FS_LFS ? &mp_type_vfs_lfs2 : &mp_fat_vfs_type;
}

static mp_obj_t new_vfs(const mp_obj_type_t* type, mp_obj_t bdev) {
  return MP_OBJ_TYPE_GET_SLOT(type, make_new)(type, 1, 0, &bdev);
}

static void mount_at(mp_obj_t vfs, const char* path) {
  mp_obj_t args[2] = {vfs, mp_obj_new_str(path, strlen(path))};
  mp_vfs_mount(2, args, (mp_map_t*)&mp_const_empty_map);
}

static void mkfs(const mp_obj_type_t* type, mp_obj_t bdev) {
  mp_obj_t dest[3];
  mp_load_method(MP_OBJ_FROM_PTR(type), MP_QSTR_mkfs, dest);
  dest[2] = bdev;
  mp_call_method_n_kw(1, 0, dest);
}

// Mounts `bdev` at `path`, making a fresh filesystem when it holds none of this type. True when it did.
static bool mount_or_format(const mp_obj_type_t* type, mp_obj_t bdev, const char* path) {
  nlr_buf_t nlr;
  if (nlr_push(&nlr) == 0) {
    mount_at(new_vfs(type, bdev), path);
    nlr_pop();
    return false;
  }
  mkfs(type, bdev);
  mount_at(new_vfs(type, bdev), path);
  return true;
}

static bool exists(const char* path) {
  nlr_buf_t nlr;
  if (nlr_push(&nlr) == 0) {
    mp_vfs_stat(mp_obj_new_str(path, strlen(path)));
    nlr_pop();
    return true;
  }
  return false;
}

static void write_file(const char* path, const char* text) {
  mp_obj_t args[2] = {mp_obj_new_str(path, strlen(path)), MP_OBJ_NEW_QSTR(MP_QSTR_w)};
  mp_obj_t f = mp_vfs_open(2, args, (mp_map_t*)&mp_const_empty_map);
  int err = 0;
  mp_stream_rw(f, (void*)text, strlen(text), &err, MP_STREAM_RW_WRITE);
  mp_stream_close(f);
  if (err) mp_raise_OSError(err);
}

int bootrig_mp_mount(int flash_fs_type, int have_sd) {
  nlr_buf_t nlr;
  if (nlr_push(&nlr) == 0) {
    bool fresh = mount_or_format(fs_type_of(flash_fs_type), MP_OBJ_FROM_PTR(&flash_bdev), "/flash");
    // The firmware's defaults, recreated when missing on every boot.
    if (fresh || !exists("/flash/main.py"))
      write_file("/flash/main.py", "# main.py -- put your code here!\r\n");
    static const char* const dirs[] = {"/flash/sys", "/flash/lib", "/flash/cert"};
    for (size_t i = 0; i < MP_ARRAY_SIZE(dirs); ++i)
      if (!exists(dirs[i])) mp_vfs_mkdir(mp_obj_new_str(dirs[i], strlen(dirs[i])));
    if (!exists("/flash/boot.py")) write_file("/flash/boot.py", "# boot.py -- run on boot-up\r\n");
    if (have_sd) mount_or_format(&mp_fat_vfs_type, MP_OBJ_FROM_PTR(&sd_bdev), "/sd");
    mp_vfs_chdir(MP_OBJ_NEW_QSTR(qstr_from_str("/flash")));
    nlr_pop();
    return 0;
  }
  mp_obj_print_exception(&mp_plat_print, MP_OBJ_FROM_PTR(nlr.ret_val));
  return MP_EIO;
}

// ---------------------------------------------------------------------------------------------------------
// The module

static mp_obj_t info_str(int what) {
  const char* s = bootrig_host_info(what);  // valid until the next call: copied at once
  return mp_obj_new_str(s, strlen(s));
}

static mp_obj_t os_uname(void) {
  static const qstr fields[] = {MP_QSTR_sysname, MP_QSTR_nodename, MP_QSTR_release, MP_QSTR_version,
                                MP_QSTR_machine};
  mp_obj_t items[5];
  if (bootrig_mp_profile() == BOOTRIG_MP_PROFILE_PYCOM)
    items[0] = items[1] = info_str(BOOTRIG_INFO_BOARD);
  else
    items[0] = items[1] = MP_OBJ_NEW_QSTR(MP_QSTR_esp32);
  items[2] = info_str(BOOTRIG_INFO_RELEASE);
  items[3] = info_str(BOOTRIG_INFO_VERSION);
  items[4] = info_str(BOOTRIG_INFO_MACHINE);
  return mp_obj_new_attrtuple(fields, 5, items);
}
static MP_DEFINE_CONST_FUN_OBJ_0(os_uname_obj, os_uname);

static mp_obj_t os_urandom(mp_obj_t num) {
  mp_int_t n = mp_obj_get_int(num);
  if (n < 0) mp_raise_ValueError(MP_ERROR_TEXT("negative count"));
  vstr_t vstr;
  vstr_init_len(&vstr, (size_t)n);
  bootrig_host_random((uint8_t*)vstr.buf, (size_t)n);
  return mp_obj_new_bytes_from_vstr(&vstr);
}
static MP_DEFINE_CONST_FUN_OBJ_1(os_urandom_obj, os_urandom);

static mp_obj_t os_sync(void) { return mp_const_none; }  // blocks are written through
static MP_DEFINE_CONST_FUN_OBJ_0(os_sync_obj, os_sync);

// The mount a path names exactly ("/flash", "/sd/"), or raise ENODEV as the firmware does.
static mp_vfs_mount_t* mount_named(mp_obj_t path_in) {
  size_t len;
  const char* path = mp_obj_str_get_data(path_in, &len);
  while (len > 1 && path[len - 1] == '/') --len;
  for (mp_vfs_mount_t* m = MP_STATE_VM(vfs_mount_table); m; m = m->next)
    if (m->len == len && memcmp(m->str, path, len) == 0) return m;
  mp_raise_OSError(MP_ENODEV);
}

static mp_obj_t call_method(mp_obj_t obj, qstr name, size_t n_args, const mp_obj_t* args) {
  mp_obj_t dest[2 + 2];
  mp_load_method(obj, name, dest);
  for (size_t i = 0; i < n_args; ++i) dest[2 + i] = args[i];
  return mp_call_method_n_kw(n_args, 0, dest);
}

// mptask's fsformat: a fresh filesystem of the same type on the same device, mounted in the same place (the
// mount keeps its position in the root folder and the current folder stays valid).
static mp_obj_t os_fsformat(mp_obj_t path_in) {
  mp_vfs_mount_t* m = mount_named(path_in);
  bool flash = m->len == 6 && memcmp(m->str, "/flash", 6) == 0;
  if (flash && bootrig_host_fs_format_keeps_files()) return mp_const_none;
  const mp_obj_type_t* type = mp_obj_get_type(m->obj);
  mp_obj_t bdev = flash ? MP_OBJ_FROM_PTR(&flash_bdev) : MP_OBJ_FROM_PTR(&sd_bdev);
  call_method(m->obj, MP_QSTR_umount, 0, NULL);
  mkfs(type, bdev);
  mp_obj_t vfs = new_vfs(type, bdev);
  mp_obj_t mount_args[2] = {mp_const_false, mp_const_false};  // readonly, mkfs
  call_method(vfs, MP_QSTR_mount, 2, mount_args);
  m->obj = vfs;
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(os_fsformat_obj, os_fsformat);

static mp_obj_t os_getfree(mp_obj_t path_in) {
  mp_obj_t st = mp_vfs_statvfs(path_in);
  mp_obj_t* items;
  mp_obj_get_array_fixed_n(st, 10, &items);
  uint64_t bytes = (uint64_t)mp_obj_get_int(items[1]) * (uint64_t)mp_obj_get_int(items[4]);
  return mp_obj_new_int_from_ull(bytes / 1024);
}
static MP_DEFINE_CONST_FUN_OBJ_1(os_getfree_obj, os_getfree);

extern const mp_obj_type_t bootrig_type_uart;

static mp_obj_t os_dupterm(size_t n_args, const mp_obj_t* args) {
  if (n_args == 0) return bootrig_host_dupterm_attached() ? mp_const_true : mp_const_none;
  if (args[0] == mp_const_none) {
    bootrig_host_dupterm(0);
  } else if (mp_obj_is_type(args[0], &bootrig_type_uart)) {
    bootrig_host_dupterm(1);
  } else {
    mp_raise_TypeError(MP_ERROR_TEXT("object with stream protocol required"));
  }
  return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(os_dupterm_obj, 0, 2, os_dupterm);

static const mp_rom_map_elem_t os_module_globals_table[] = {
    {MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_uos)},
    {MP_ROM_QSTR(MP_QSTR_uname), MP_ROM_PTR(&os_uname_obj)},
    {MP_ROM_QSTR(MP_QSTR_urandom), MP_ROM_PTR(&os_urandom_obj)},
    {MP_ROM_QSTR(MP_QSTR_sync), MP_ROM_PTR(&os_sync_obj)},
    {MP_ROM_QSTR(MP_QSTR_sep), MP_ROM_QSTR(MP_QSTR__slash_)},
    {MP_ROM_QSTR(MP_QSTR_chdir), MP_ROM_PTR(&mp_vfs_chdir_obj)},
    {MP_ROM_QSTR(MP_QSTR_getcwd), MP_ROM_PTR(&mp_vfs_getcwd_obj)},
    {MP_ROM_QSTR(MP_QSTR_listdir), MP_ROM_PTR(&mp_vfs_listdir_obj)},
    {MP_ROM_QSTR(MP_QSTR_ilistdir), MP_ROM_PTR(&mp_vfs_ilistdir_obj)},
    {MP_ROM_QSTR(MP_QSTR_mkdir), MP_ROM_PTR(&mp_vfs_mkdir_obj)},
    {MP_ROM_QSTR(MP_QSTR_remove), MP_ROM_PTR(&mp_vfs_remove_obj)},
    {MP_ROM_QSTR(MP_QSTR_unlink), MP_ROM_PTR(&mp_vfs_remove_obj)},
    {MP_ROM_QSTR(MP_QSTR_rename), MP_ROM_PTR(&mp_vfs_rename_obj)},
    {MP_ROM_QSTR(MP_QSTR_rmdir), MP_ROM_PTR(&mp_vfs_rmdir_obj)},
    {MP_ROM_QSTR(MP_QSTR_stat), MP_ROM_PTR(&mp_vfs_stat_obj)},
    {MP_ROM_QSTR(MP_QSTR_statvfs), MP_ROM_PTR(&mp_vfs_statvfs_obj)},
    {MP_ROM_QSTR(MP_QSTR_mount), MP_ROM_PTR(&mp_vfs_mount_obj)},
    {MP_ROM_QSTR(MP_QSTR_unmount), MP_ROM_PTR(&mp_vfs_umount_obj)},
    {MP_ROM_QSTR(MP_QSTR_umount), MP_ROM_PTR(&mp_vfs_umount_obj)},
    {MP_ROM_QSTR(MP_QSTR_fsformat), MP_ROM_PTR(&os_fsformat_obj)},
    {MP_ROM_QSTR(MP_QSTR_getfree), MP_ROM_PTR(&os_getfree_obj)},
    {MP_ROM_QSTR(MP_QSTR_dupterm), MP_ROM_PTR(&os_dupterm_obj)},
};
static MP_DEFINE_CONST_DICT(os_module_globals, os_module_globals_table);

const mp_obj_module_t bootrig_module_os = {
    .base = {&mp_type_module},
    .globals = (mp_obj_dict_t*)&os_module_globals,
};
MP_REGISTER_EXTENSIBLE_MODULE(MP_QSTR_os, bootrig_module_os);
