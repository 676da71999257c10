# Marathon-level health checks (health.h): HTTP, HTTPS and TCP probes of app instances, run on the
# runtime's I/O thread with libcurl's multi interface. Included from this folder's CMakeLists.txt.
add_library(marathon_health STATIC ${CMAKE_CURRENT_LIST_DIR}/health.c)
target_include_directories(marathon_health PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(marathon_health PUBLIC marathon_app actor PRIVATE PkgConfig::CURL)
