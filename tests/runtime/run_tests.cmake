# The run scheduler core on workflows compiled by the real front end.
target_sources(runtime_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/workflow_run_test.cpp)
target_sources(runtime_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/journal_service_test.cpp)
target_sources(runtime_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/model_output_test.cpp)
target_sources(runtime_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/cluster_auth_test.cpp)
target_sources(runtime_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/plan_test.cpp)
target_sources(runtime_tests PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/run_events_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/step_attempts_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/executor_pool_test.cpp)
