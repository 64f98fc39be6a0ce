# The run scheduler core.
target_sources(troupe_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/workflow_run.cpp
  ${CMAKE_CURRENT_LIST_DIR}/workflow_run.hpp)
target_sources(troupe_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/journal_service.cpp
  ${CMAKE_CURRENT_LIST_DIR}/journal_service.hpp)
target_sources(troupe_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/model_output.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model_output.hpp)
target_sources(troupe_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/cluster_auth.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cluster_auth.hpp)
target_sources(troupe_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/plan.cpp
  ${CMAKE_CURRENT_LIST_DIR}/plan.hpp)
target_sources(troupe_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/run_events.cpp
  ${CMAKE_CURRENT_LIST_DIR}/run_events.hpp
  ${CMAKE_CURRENT_LIST_DIR}/step_attempts.cpp
  ${CMAKE_CURRENT_LIST_DIR}/step_attempts.hpp)
