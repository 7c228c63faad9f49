// Force-included into shared/readline/readline.c only: its line editor state (`static readline_t rl;`)
// becomes per thread like the interpreter's (tls.h), so that simulated chips running side by side do not
// share it.
#pragma once

struct _readline_t;
extern __thread double bootrig_readline_storage[32];  // larger than readline_t, suitably aligned
static inline struct _readline_t* bootrig_readline_get(void) {
  return (struct _readline_t*)(void*)bootrig_readline_storage;
}
#define rl (*bootrig_readline_get())
