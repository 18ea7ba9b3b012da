# kiln_core_library(name SOURCES ... DEPS ...): one core layer = one static library.
# Every core layer shares one precompiled torch header (built once in kiln_pch).

add_library(kiln_pch STATIC ${CMAKE_SOURCE_DIR}/cmake/pch.cpp)
target_link_libraries(kiln_pch PUBLIC torch nlohmann_json::nlohmann_json kiln_warnings)
target_precompile_headers(kiln_pch PRIVATE <torch/torch.h> <nlohmann/json.hpp>
                          <string> <vector> <memory> <map> <filesystem>)

# Engine targets have no QObjects: no moc pass (it would add a PCH'd TU to each of them).
set_target_properties(kiln_pch PROPERTIES AUTOMOC OFF)

function(kiln_use_torch_pch target)
  target_precompile_headers(${target} REUSE_FROM kiln_pch)
  set_target_properties(${target} PROPERTIES AUTOMOC OFF)
endfunction()

function(kiln_core_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/core)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} torch nlohmann_json::nlohmann_json PRIVATE kiln_warnings)
  kiln_use_torch_pch(${name})
endfunction()
