// The Pycom profile's error wording. Firmware 1.20 is built on MicroPython 1.11, whose messages say
// "name 'x' is not defined", "'int' object is not callable", "does not support item assignment"; MicroPython
// 1.13 shortened them to "isn't" and "doesn't" ("division by zero" became "divide by zero"). MicroPython's
// three message constructors (py/objexcept.c, built with its definitions renamed to bootrig_orig_*) are
// wrapped here so that the Pycom profile's exceptions carry the old words: in tracebacks, str(e) and e.args
// alike.
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "py/runtime.h"

mp_obj_t bootrig_orig_exception_msg(const mp_obj_type_t* exc_type, mp_rom_error_text_t msg);
mp_obj_t bootrig_orig_exception_msg_vlist(const mp_obj_type_t* exc_type, mp_rom_error_text_t fmt,
                                          va_list args);

static const char* const kWords[][2] = {
    {"isn't", "is not"},
    {"doesn't", "does not"},
    {"can't import name", "cannot import name"},
    {"divide by zero", "division by zero"},
};

// Translated texts live as long as the process: exceptions keep a pointer to their message. Distinct
// messages are compile-time literals, so the table stays small; it is used under the interpreter lock.
static struct { const char *from, *to; } * cache;
static size_t cache_len, cache_cap;

static const char* pycom_wording(const char* text) {
  if (!text || bootrig_mp_profile() != BOOTRIG_MP_PROFILE_PYCOM) return text;
  for (size_t i = 0; i < cache_len; ++i)
    if (cache[i].from == text) return cache[i].to;
  const char* to = text;
  size_t len = strlen(text);
  for (size_t w = 0; w < MP_ARRAY_SIZE(kWords); ++w)
    if (strstr(text, kWords[w][0])) len += strlen(kWords[w][1]) * 4;
  if (len != strlen(text)) {
    char* out = malloc(len + 1);
    if (out) {
      const char* src = text;
      char* dst = out;
      while (*src) {
        size_t w = 0;
        for (; w < MP_ARRAY_SIZE(kWords); ++w)
          if (strncmp(src, kWords[w][0], strlen(kWords[w][0])) == 0) break;
        if (w < MP_ARRAY_SIZE(kWords)) {
          strcpy(dst, kWords[w][1]);
          dst += strlen(kWords[w][1]);
          src += strlen(kWords[w][0]);
        } else {
          *dst++ = *src++;
        }
      }
      *dst = '\0';
      to = out;
    }
  }
  if (cache_len == cache_cap) {
    size_t cap = cache_cap ? cache_cap * 2 : 32;
    void* grown = realloc(cache, cap * sizeof *cache);
    if (!grown) return to;
    cache = grown;
    cache_cap = cap;
  }
  cache[cache_len].from = text;
  cache[cache_len].to = to;
  ++cache_len;
  return to;
}

mp_obj_t mp_obj_new_exception_msg(const mp_obj_type_t* exc_type, mp_rom_error_text_t msg) {
  return bootrig_orig_exception_msg(exc_type, pycom_wording(msg));
}

mp_obj_t mp_obj_new_exception_msg_vlist(const mp_obj_type_t* exc_type, mp_rom_error_text_t fmt,
                                        va_list args) {
  return bootrig_orig_exception_msg_vlist(exc_type, pycom_wording(fmt), args);
}

mp_obj_t mp_obj_new_exception_msg_varg(const mp_obj_type_t* exc_type, mp_rom_error_text_t fmt, ...) {
  va_list args;
  va_start(args, fmt);
  mp_obj_t exc = bootrig_orig_exception_msg_vlist(exc_type, pycom_wording(fmt), args);
  va_end(args);
  return exc;
}
