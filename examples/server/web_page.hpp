// The visualizer page (web/index.html), compiled into the program so that `inkling serve`
// needs no files beside it and fetches nothing from the internet.
#pragma once

#include <string_view>

namespace inkling::server {
std::string_view web_page() noexcept;
}
