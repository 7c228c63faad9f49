// help()'s text, which MicroPython takes from one array (MICROPY_PY_BUILTINS_HELP_TEXT): filled with the
// running profile's text whenever an interpreter starts, under the interpreter lock. This file does not see
// builtin.h's const declaration of the array.
#include <stdio.h>

#include "port.h"

char bootrig_mp_help_text[1024];

void bootrig_mp_set_help_text(int profile) {
  const char* controls =
      "Control commands:\n"
      "  CTRL-A        -- on a blank line, enter raw REPL mode\n"
      "  CTRL-B        -- on a blank line, enter normal REPL mode\n"
      "  CTRL-C        -- interrupt a running program\n"
      "  CTRL-D        -- on a blank line, do a soft reset of the board\n"
      "  CTRL-E        -- on a blank line, enter paste mode\n";
  if (profile == BOOTRIG_MP_PROFILE_PYCOM)
    snprintf(bootrig_mp_help_text, sizeof bootrig_mp_help_text,
             "Welcome to MicroPython!\n\nFor online docs please visit http://docs.pycom.io\n\n%s"
             "  CTRL-F        -- on a blank line, enter safe boot mode\n\n"
             "For further help on a specific object, type help(obj)\n",
             controls);
  else
    snprintf(bootrig_mp_help_text, sizeof bootrig_mp_help_text,
             "Welcome to MicroPython on the ESP32!\n\nFor generic online docs please visit "
             "http://docs.micropython.org/\n\n%s\nFor further help on a specific object, type help(obj)\n"
             "For a list of available modules, type help('modules')\n",
             controls);
}
