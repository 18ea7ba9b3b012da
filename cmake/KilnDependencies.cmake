# Third-party packages. core/ needs only LibTorch and header-only nlohmann/json (and doctest
# for its tests), so it also builds on a GPU server that has a CUDA LibTorch and nothing else:
# there, put the headers in .device/include (see bench/gpu/run.sh).

include(KilnLibTorch)
# SHA-256 (OpenSSL's EVP, libcrypto) and CRC-32 (zlib) for core/io and core/control. A GPU server
# building the core preset needs their headers too (libssl-dev, zlib1g-dev, or copies in .device/include).
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_package(ZLIB REQUIRED)
# Torch's imported target carries TORCH_CXX_FLAGS (e.g. the C++11 ABI switch); everything
# linking it compiles with the same flags. Its headers are system headers for our warnings.
get_target_property(_torch_inc torch INTERFACE_INCLUDE_DIRECTORIES)
if(_torch_inc)
  set_target_properties(torch PROPERTIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${_torch_inc}")
endif()

set(KILN_EXTRA_INCLUDE ${CMAKE_SOURCE_DIR}/.device/include)
find_package(nlohmann_json 3.9 QUIET)
if(NOT nlohmann_json_FOUND)
  find_path(KILN_NLOHMANN_INCLUDE nlohmann/json.hpp HINTS ${KILN_EXTRA_INCLUDE} REQUIRED)
  add_library(nlohmann_json INTERFACE)
  add_library(nlohmann_json::nlohmann_json ALIAS nlohmann_json)
  target_include_directories(nlohmann_json SYSTEM INTERFACE ${KILN_NLOHMANN_INCLUDE})
endif()

if(KILN_BUILD_TESTS)
  find_path(KILN_DOCTEST_INCLUDE doctest/doctest.h HINTS ${KILN_EXTRA_INCLUDE} REQUIRED)
endif()

# core/dataset (image import, face-aware crop): OpenCV for codecs and resampling, dlib for the
# HOG face detector. Required for the desktop build; a core-only build (a GPU server with
# nothing but LibTorch) skips kiln_dataset when they are missing.
if(KILN_CORE_ONLY)
  find_package(OpenCV QUIET COMPONENTS core imgproc imgcodecs dnn)
  find_package(dlib QUIET)
else()
  find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs dnn)
  find_package(dlib REQUIRED)
endif()
if(OpenCV_FOUND AND dlib_FOUND)
  set(KILN_HAVE_DATASET ON)
else()
  set(KILN_HAVE_DATASET OFF)
  message(STATUS "Kiln: OpenCV or dlib not found: core/dataset (kiln_dataset) is not built")
endif()

if(NOT KILN_CORE_ONLY)
  set(CMAKE_AUTOMOC ON)
  find_package(Qt6 6.4 REQUIRED COMPONENTS Core Gui Widgets Concurrent Charts Network HttpServer LinguistTools)
  # Zip import of datasets (app/services/zip_import).
  find_package(QuaZip-Qt6 REQUIRED)
  if(KILN_BUILD_TESTS)
    find_package(Qt6 6.4 REQUIRED COMPONENTS Test)
  endif()
endif()
