# Compiler launcher, warnings and sanitizers shared by every Kiln target.

find_program(KILN_CCACHE ccache)
if(KILN_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # Precompiled headers need these sloppiness settings to be cacheable.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${KILN_CCACHE})
endif()

add_library(kiln_warnings INTERFACE)
target_compile_options(kiln_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 14)
  # GCC 12/13 report false positives inside libstdc++'s std::string at -O3 (GCC bugs 105329,
  # 105651, 107852); they would fail every -Werror build that concatenates strings.
  target_compile_options(kiln_warnings INTERFACE -Wno-stringop-overflow -Wno-restrict -Wno-array-bounds)
  # And inside std::optional<at::Generator> (c10::optional is std::optional since LibTorch 2.x):
  # -Wmaybe-uninitialized on the destructor of an engaged-or-empty optional (GCC bug 107919).
  target_compile_options(kiln_warnings INTERFACE -Wno-maybe-uninitialized)
endif()
if(KILN_WERROR)
  target_compile_options(kiln_warnings INTERFACE -Werror)
endif()

if(KILN_ASAN)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
# libFuzzer targets (fuzz/, the `fuzz` preset, clang): everything instrumented for coverage and
# checked by ASan + UBSan; the fuzz executables link libFuzzer's main.
if(KILN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "KILN_FUZZ needs clang (libFuzzer): use the fuzz preset")
  endif()
  if(KILN_FUZZ_COVERAGE)
    # The `fuzz-coverage` preset: the same targets with clang's source-based coverage instead of
    # the sanitizers, to measure which lines of each parser a corpus reaches (scripts/fuzz.sh coverage).
    add_compile_options(-fsanitize=fuzzer-no-link -fprofile-instr-generate -fcoverage-mapping)
    add_link_options(-fprofile-instr-generate -fcoverage-mapping)
  else()
    add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                        -fno-omit-frame-pointer -gline-tables-only)
    add_link_options(-fsanitize=address,undefined)
  endif()
endif()
