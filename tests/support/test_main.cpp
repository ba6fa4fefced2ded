// The doctest main shared by every test program. It maps "shared data missing" to
// ctest's skip code so that a run without ../shared shows SKIPPED, not passed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>

#include "shared_data.hpp"

int main(int argc, char** argv) {
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  const int rc = context.run();
  if (context.shouldExit()) return rc;
  if (rc == 0 && inkling::test::shared_data_was_missing()) return 77;
  return rc;
}
