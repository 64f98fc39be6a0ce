# The router's plain class: model choice by utility, load, learned accuracy,
# cooldowns and fallbacks (driven by the router actor).
target_sources(troupe_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/router.cpp
  ${CMAKE_CURRENT_LIST_DIR}/router.hpp)
