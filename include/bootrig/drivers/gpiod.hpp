// The libgpiod driver: GPIO lines through the kernel's character device, v1 or v2 API per build.
#pragma once

#include <memory>
#include <string>

#include "bootrig/hw/gpio.hpp"

namespace bootrig {

// Which libgpiod API this build was compiled against, e.g. "libgpiod 1.6.3 (v1 API)".
std::string gpiod_api_description();

// Lines on /dev/gpiochip*. Only the driver files include <gpiod.h>/<gpiod.hpp>.
std::unique_ptr<GpioBackend> make_gpiod_backend();

}  // namespace bootrig
