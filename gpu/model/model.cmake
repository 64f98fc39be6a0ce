# The Llama model: forward pass (CPU reference) and GGUF loading.
target_sources(troupe_gpu PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/llama.hpp
  ${CMAKE_CURRENT_LIST_DIR}/llama_forward.cpp)
target_sources(troupe_gpu PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/model_load.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_load.hpp)
target_sources(troupe_gpu PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/model_synth.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_synth.hpp)
