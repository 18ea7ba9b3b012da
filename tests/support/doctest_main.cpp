#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "base/engine.h"

int main(int argc, char** argv) {
  kiln::init_engine();
  doctest::Context context(argc, argv);
  return context.run();
}
