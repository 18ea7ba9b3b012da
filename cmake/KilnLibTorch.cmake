# Which LibTorch Kiln builds against.
#
#   KILN_LIBTORCH=pypi   (default) the pinned CUDA LibTorch of scripts/libtorch-requirements.txt,
#                        installed by scripts/setup-libtorch.sh in a cache folder; this file computes
#                        the same folder (keep the two in step).
#   KILN_LIBTORCH=system whatever find_package(Torch) finds on its own or through CMAKE_PREFIX_PATH:
#                        e.g. a PyPI/conda PyTorch on a GPU server (bench/gpu/run.sh).
#
# Binaries find LibTorch through their RPATH (CMake's build RPATH holds the directories of the
# libraries they link); libtorch_cuda.so finds the CUDA runtime, cuBLAS, cuDNN and NCCL of the
# nvidia-* wheels through its own RPATH. Nothing needs LD_LIBRARY_PATH, and the CUDA libraries load
# without an NVIDIA driver (the driver is only opened when a CUDA device is first used).

set(KILN_LIBTORCH "pypi" CACHE STRING "LibTorch to build against: pypi (pinned CUDA build) or system")
set_property(CACHE KILN_LIBTORCH PROPERTY STRINGS pypi system)

if(KILN_LIBTORCH STREQUAL "pypi")
  set(_req ${CMAKE_SOURCE_DIR}/scripts/libtorch-requirements.txt)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_req})
  file(STRINGS ${_req} _torch_line REGEX "^torch==")
  string(REGEX REPLACE "^torch==([^ ]+) .*" "\\1" KILN_LIBTORCH_PINNED "${_torch_line}")
  file(SHA256 ${_req} _pins)
  string(SUBSTRING ${_pins} 0 8 _pins)
  if(DEFINED ENV{KILN_CACHE_DIR} AND NOT "$ENV{KILN_CACHE_DIR}" STREQUAL "")
    set(_cache $ENV{KILN_CACHE_DIR})
  elseif(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
    set(_cache $ENV{XDG_CACHE_HOME}/kiln)
  else()
    set(_cache $ENV{HOME}/.cache/kiln)
  endif()
  set(KILN_LIBTORCH_DIR ${_cache}/libtorch-${KILN_LIBTORCH_PINNED}-${_pins}
      CACHE PATH "Virtual environment holding the pinned LibTorch (scripts/setup-libtorch.sh)")
  if(NOT EXISTS ${KILN_LIBTORCH_DIR}/.kiln-complete)
    message(FATAL_ERROR "Kiln: the pinned LibTorch ${KILN_LIBTORCH_PINNED} is not installed in "
                        "${KILN_LIBTORCH_DIR}: run scripts/setup-libtorch.sh (scripts/test.sh and "
                        "scripts/run.sh do), or configure with -DKILN_LIBTORCH=system to use another LibTorch.")
  endif()
  file(GLOB _torch_cmake ${KILN_LIBTORCH_DIR}/lib/python3*/site-packages/torch/share/cmake)
  # The wheel's site-packages (torch/lib and the nvidia-* runtime wheels): what a package bundles.
  get_filename_component(KILN_TORCH_SITE "${_torch_cmake}/../../.." ABSOLUTE)
  list(PREPEND CMAKE_PREFIX_PATH ${_torch_cmake})
  # Python with this torch: the tests check that torch.load reads the checkpoints Kiln writes.
  set(KILN_TORCH_PYTHON ${KILN_LIBTORCH_DIR}/bin/python)
else()
  set(KILN_TORCH_PYTHON "" CACHE FILEPATH "A Python with torch for the interop tests (empty: they fail saying so)")
endif()

# TorchConfig looks for the CUDA toolkit (nvcc, headers) when LibTorch was built with CUDA; Kiln
# itself compiles no CUDA code and calls no CUDA API directly. A fixed architecture list keeps
# Caffe2's cmake from compiling and running a GPU probe (which fails without a GPU, and with
# CMake 3.25's CUDA dialect table).
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "8.0;8.6;8.9;9.0" CACHE STRING "CUDA architectures (Kiln compiles no CUDA code)")
endif()
# 2.4: scaled_dot_product_attention with a scale, the per-device autocast API.
find_package(Torch 2.4 REQUIRED)

# Kiln links LibTorch only: not the CUDA toolkit's libcudart (torch::cudart), which would put
# /usr/local/cuda in the binaries' RPATH and load the toolkit's runtime instead of the one
# libtorch_cuda.so brings; and not the MKL search folders of caffe2::mkl (MKL is linked into
# libtorch_cpu.so). The linker finds libtorch_cuda.so's own dependencies through its RPATH.
if(TARGET torch::cudart)
  set_property(TARGET torch::cudart PROPERTY INTERFACE_LINK_LIBRARIES "")
endif()
if(TARGET caffe2::mkl)
  set_property(TARGET caffe2::mkl PROPERTY INTERFACE_LINK_DIRECTORIES "")
endif()
# PyPI's libtorch.so (built with a devtoolset compiler) exports its own copies of
# std::filesystem functions (remove_all, equivalent, ...). Listed before libstdc++ in a binary's
# DT_NEEDED, they interpose on the system libstdc++'s and crash (remove_all jumps to address 0).
# libstdc++ goes first, as it does when Python loads torch: the system's definitions win.
target_link_options(torch INTERFACE "LINKER:--push-state,--no-as-needed" "-lstdc++" "LINKER:--pop-state")
if(TARGET torch_cuda)
  set(KILN_TORCH_CUDA ON)
else()
  set(KILN_TORCH_CUDA OFF)
endif()
message(STATUS "Kiln: LibTorch ${Torch_VERSION} (${KILN_LIBTORCH}), CUDA: ${KILN_TORCH_CUDA}")
