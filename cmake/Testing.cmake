# mesos_add_tests(GLOB_DIR LIBS ...): one cmocka executable per tests/<dir>/test_*.c, registered
# with ctest under "<dir>/<name>" with a timeout (nng's NNGHelpers.cmake does the same).
set(MESOS_TEST_TIMEOUT 120 CACHE STRING "Seconds before ctest kills one test executable")

function(mesos_add_tests dir)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test_*.c)
  foreach(src ${tests})
    get_filename_component(name ${src} NAME_WE)
    set(target ${dir}_${name})
    add_executable(${target} ${src})
    set_target_properties(${target} PROPERTIES OUTPUT_NAME ${name}
                          RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/${dir})
    target_link_libraries(${target} PRIVATE ${ARG_LIBS} PkgConfig::CMOCKA)
    add_test(NAME ${dir}/${name} COMMAND ${target})
    set_tests_properties(${dir}/${name} PROPERTIES TIMEOUT ${MESOS_TEST_TIMEOUT}
                         ENVIRONMENT "MESOS_TEST_BIN_DIR=${CMAKE_BINARY_DIR}/bin")
  endforeach()
endfunction()
