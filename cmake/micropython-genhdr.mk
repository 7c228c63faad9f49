# Generates MicroPython's headers for the simulated module's port (qstrs, module and root-pointer tables,
# version) with MicroPython's own rules: ports/embed's embed.mk, run from the port's folder (src/sim/micropython,
# which holds mpconfigport.h), scanning the port's and the chosen extmod sources too.
#
# make -C src/sim/micropython -f cmake/micropython-genhdr.mk MICROPYTHON_TOP=... BUILD=... CC=... \
#      BOOTRIG_QSTR_SOURCES="..." BOOTRIG_CFLAGS="..." genhdr
SRC_QSTR := $(BOOTRIG_QSTR_SOURCES)
CFLAGS += $(BOOTRIG_CFLAGS)
include $(MICROPYTHON_TOP)/ports/embed/embed.mk

.PHONY: genhdr
genhdr: $(GENHDR_OUTPUT)
