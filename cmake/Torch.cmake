# LibTorch helpers: one precompiled header shared by every target that includes torch, so the
# (very slow) torch headers are parsed once per build, not once per file.
add_library(sg_torch_pch STATIC ${CMAKE_CURRENT_LIST_DIR}/torch_pch.cpp)
target_link_libraries(sg_torch_pch PUBLIC ${TORCH_LIBRARIES})
target_compile_options(sg_torch_pch PUBLIC -Wno-unused-parameter)
target_precompile_headers(sg_torch_pch PUBLIC <torch/torch.h>)

# sg_use_torch(target): link LibTorch and reuse the shared precompiled header.
function(sg_use_torch target)
  target_link_libraries(${target} PRIVATE sg_torch_pch ${TORCH_LIBRARIES})
  target_precompile_headers(${target} REUSE_FROM sg_torch_pch)
endfunction()
