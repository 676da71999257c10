# Marathon-level health checks (health.h): HTTP, HTTPS and TCP probes of app instances, and the
# outgoing libcurl transfers they run on (http_client.h: the runtime's I/O thread, libcurl's multi
# interface), which the Marathon actor's event callbacks and alert mails use as well. Included
# from this folder's CMakeLists.txt.
add_library(marathon_health STATIC ${CMAKE_CURRENT_LIST_DIR}/health.c
                                   ${CMAKE_CURRENT_LIST_DIR}/http_client.c)
target_include_directories(marathon_health PUBLIC ${CMAKE_SOURCE_DIR})
# PUBLIC: http_client.h includes curl/curl.h.
target_link_libraries(marathon_health PUBLIC marathon_app actor PkgConfig::CURL)
