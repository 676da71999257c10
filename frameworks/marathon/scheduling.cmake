# Marathon's scheduling decisions (placement.h, plan.h, backoff.h): constraints, kill selection,
# resource and port matching, TaskInfo building, deployment arithmetic and plans, launch backoff.
# Pure code on the app model; included from this folder's CMakeLists.txt.
add_library(marathon_scheduling STATIC
  ${CMAKE_CURRENT_LIST_DIR}/placement.c ${CMAKE_CURRENT_LIST_DIR}/constraints.c
  ${CMAKE_CURRENT_LIST_DIR}/plan.c ${CMAKE_CURRENT_LIST_DIR}/backoff.c)
target_include_directories(marathon_scheduling PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(marathon_scheduling PUBLIC marathon_app resources actor mesos_proto)
