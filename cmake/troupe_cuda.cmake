# CUDA and NCCL auto-detection for the gpu/ library.
#
# Sets, in the including scope:
#   TROUPE_HAVE_CUDA  ON when TROUPE_CUDA is on and nvcc works
#   TROUPE_HAVE_NCCL  ON when CUDA is on, TROUPE_NCCL is on and NCCL is found
# and, when found, the imported target troupe::nccl.
#
# Binaries link only the CUDA runtime (CUDA::cudart, shared). They never link
# the driver stub lib64/stubs/libcuda.so: a binary linked to the stub fails on
# machines with a real driver and cannot tell "no device" from "no driver" on
# machines without one. libcudart loads the driver itself at run time.

option(TROUPE_NCCL "Build the NCCL probe when NCCL is found (needs CUDA)" ON)

set(TROUPE_HAVE_CUDA OFF)
set(TROUPE_HAVE_NCCL OFF)

if(NOT TROUPE_CUDA)
  message(STATUS "troupe: CUDA backend disabled (TROUPE_CUDA=OFF)")
  return()
endif()

# nvcc is often not on PATH; the toolkit's default prefix is a fine hint.
if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
  find_program(TROUPE_NVCC nvcc
    HINTS ENV CUDA_HOME ENV CUDA_PATH
    PATHS /usr/local/cuda/bin
    PATH_SUFFIXES bin)
  mark_as_advanced(TROUPE_NVCC)
  if(TROUPE_NVCC)
    set(CMAKE_CUDA_COMPILER "${TROUPE_NVCC}" CACHE FILEPATH "CUDA compiler")
  endif()
endif()

include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  message(STATUS "troupe: nvcc not found; building the CPU backend only")
  return()
endif()

# Two real architectures (Ampere, Hopper) keep nvcc time small. CUDA 13 no
# longer targets anything below sm_75, so older defaults would fail.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 80 90 CACHE STRING "CUDA architectures")
endif()
# Link the shared runtime: one copy of cudart per process, shared with NCCL.
set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)

enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
set(TROUPE_HAVE_CUDA ON)
message(STATUS "troupe: CUDA ${CUDAToolkit_VERSION}, "
               "architectures ${CMAKE_CUDA_ARCHITECTURES}")

if(NOT TROUPE_NCCL)
  message(STATUS "troupe: NCCL disabled (TROUPE_NCCL=OFF)")
  return()
endif()

find_path(NCCL_INCLUDE_DIR nccl.h
  HINTS ENV NCCL_ROOT ${CUDAToolkit_INCLUDE_DIRS}
  PATH_SUFFIXES include)
find_library(NCCL_LIBRARY nccl
  HINTS ENV NCCL_ROOT ${CUDAToolkit_LIBRARY_DIR}
  PATH_SUFFIXES lib lib64)
mark_as_advanced(NCCL_INCLUDE_DIR NCCL_LIBRARY)

if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
  if(NOT TARGET troupe::nccl)
    add_library(troupe::nccl UNKNOWN IMPORTED)
    set_target_properties(troupe::nccl PROPERTIES
      IMPORTED_LOCATION "${NCCL_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${NCCL_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES CUDA::cudart)
  endif()
  set(TROUPE_HAVE_NCCL ON)
  message(STATUS "troupe: NCCL ${NCCL_LIBRARY}")
else()
  message(STATUS "troupe: NCCL not found; skipping the NCCL probe")
endif()
