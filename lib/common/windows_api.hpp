// <windows.h> the way the library includes it (Windows builds only): without the rarely
// used APIs, and without the min/max macros that would break std::min/std::max.
#pragma once

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif
