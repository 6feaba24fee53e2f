# LibTorch from the pinned `torch` wheel in .venv (requirements-oracle.txt), the same torch the oracles run.
#
# sg::torch links only libtorch_cpu and libc10. find_package(Torch) is not used: on the wheel it insists on a
# CUDA toolkit even for a CPU build (Caffe2Config includes public/cuda.cmake), find_library() prefers any
# system libtorch over the wheel's, and torch_cpu's imported interface adds protobuf and MKL, which the wheel's
# libraries already carry inside. Set SG_TORCH_DIR to use another torch installation (a site-packages/torch).
function(sg_is_torch_dir dir result)
  if(EXISTS "${dir}/lib/libtorch_cpu.so" AND EXISTS "${dir}/include/torch/csrc/api/include")
    set(${result} TRUE PARENT_SCOPE)
  else()
    set(${result} FALSE PARENT_SCOPE)
  endif()
endfunction()
sg_is_torch_dir("${SG_TORCH_DIR}" sg_torch_found)
if(NOT sg_torch_found)   # unset, or cached before `make venv` made .venv: look again
  file(GLOB sg_venv_torch "${PROJECT_SOURCE_DIR}/.venv/lib/python3*/site-packages/torch")
  sg_is_torch_dir("${sg_venv_torch}" sg_torch_found)
  if(NOT sg_torch_found)
    message(FATAL_ERROR "LibTorch not found: '${PROJECT_SOURCE_DIR}/.venv/lib/python3*/site-packages/torch' has no "
                        "lib/libtorch_cpu.so and include/torch/csrc/api/include (SG_TORCH_DIR='${SG_TORCH_DIR}'). "
                        "Run `make venv` (installs the pinned torch wheel into .venv).")
  endif()
  set(SG_TORCH_DIR "${sg_venv_torch}" CACHE PATH "The torch package whose LibTorch SliceGuard links (site-packages/torch)" FORCE)
endif()
file(READ "${SG_TORCH_DIR}/version.py" sg_torch_version_py)
string(REGEX MATCH "__version__ = '([^']+)'" _ "${sg_torch_version_py}")
set(SG_TORCH_VERSION "${CMAKE_MATCH_1}")
message(STATUS "LibTorch ${SG_TORCH_VERSION} from ${SG_TORCH_DIR}")

foreach(lib c10 torch_cpu)
  add_library(sg_libtorch_${lib} SHARED IMPORTED)
  set_target_properties(sg_libtorch_${lib} PROPERTIES IMPORTED_LOCATION "${SG_TORCH_DIR}/lib/lib${lib}.so")
endforeach()
# The wheel's include/ also carries its own fmt, protobuf (google/), pybind11 and oneDNN headers; on the include
# path they would shadow Debian's fmt (spdlog) and protobuf (gRPC). Only LibTorch's own trees are exposed, through
# links in the build directory.
set(sg_torch_include "${CMAKE_BINARY_DIR}/torch_include")
file(MAKE_DIRECTORY "${sg_torch_include}")
foreach(tree ATen c10 caffe2 torch)
  file(CREATE_LINK "${SG_TORCH_DIR}/include/${tree}" "${sg_torch_include}/${tree}" SYMBOLIC)
endforeach()
add_library(sg_torch INTERFACE)
add_library(sg::torch ALIAS sg_torch)
# SYSTEM: warnings are ours to fix, not LibTorch's.
target_include_directories(sg_torch SYSTEM INTERFACE "${sg_torch_include}"
                                                     "${sg_torch_include}/torch/csrc/api/include")
target_link_libraries(sg_torch INTERFACE sg_libtorch_torch_cpu sg_libtorch_c10)
target_compile_features(sg_torch INTERFACE cxx_std_20)

# One precompiled header shared by every target that includes torch, so the (very slow) torch headers are parsed
# once per build, not once per file.
add_library(sg_torch_pch STATIC ${CMAKE_CURRENT_LIST_DIR}/torch_pch.cpp)
target_link_libraries(sg_torch_pch PUBLIC sg::torch)
target_compile_options(sg_torch_pch PUBLIC -Wno-unused-parameter)
target_precompile_headers(sg_torch_pch PUBLIC <torch/torch.h>)

# sg_use_torch(target): link LibTorch and reuse the shared precompiled header.
function(sg_use_torch target)
  target_link_libraries(${target} PRIVATE sg_torch_pch sg::torch)
  target_precompile_headers(${target} REUSE_FROM sg_torch_pch)
endfunction()
