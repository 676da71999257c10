# Finds the Debian-packaged libraries the project builds on (DESIGN.md section 10) and wraps each
# as an imported target named dep::<name>. ./tools/test and ./tools/run install the packages.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

pkg_check_modules(PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
pkg_check_modules(LMDB REQUIRED IMPORTED_TARGET lmdb)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(ARCHIVE REQUIRED IMPORTED_TARGET libarchive)
find_program(PROTOC_C protoc-c REQUIRED)

# The runtime's own libraries link from their static archives when Debian ships them (see
# mesos_find_plain_library below for why).
function(mesos_prefer_static target lib)
  find_library(${lib}_STATIC_LIB lib${lib}.a)
  if(${lib}_STATIC_LIB)
    set_target_properties(${target} PROPERTIES INTERFACE_LINK_LIBRARIES ${${lib}_STATIC_LIB})
  endif()
endfunction()
mesos_prefer_static(PkgConfig::JANSSON jansson)
mesos_prefer_static(PkgConfig::PROTOBUF_C protobuf-c)

# Libraries without pkg-config files in Debian 12. The static archive is preferred: every
# binary then starts without loading them, which matters for mesos-executor, started once per
# task (and linked fully static, see slave/executor/CMakeLists.txt).
function(mesos_find_plain_library target lib header)
  find_library(${target}_ARCHIVE_OR_LIB NAMES lib${lib}.a ${lib} REQUIRED)
  find_path(${target}_INC ${header} REQUIRED)
  add_library(dep::${target} UNKNOWN IMPORTED)
  set_target_properties(dep::${target} PROPERTIES IMPORTED_LOCATION ${${target}_ARCHIVE_OR_LIB}
                        INTERFACE_INCLUDE_DIRECTORIES ${${target}_INC})
endfunction()

mesos_find_plain_library(nng nng nng/nng.h)
# Debian's nng is built with TLS on mbedtls, which its static archive leaves to the linker.
set_target_properties(dep::nng PROPERTIES INTERFACE_LINK_LIBRARIES
                      "mbedtls;mbedx509;mbedcrypto;Threads::Threads")
mesos_find_plain_library(ev ev ev.h)
mesos_find_plain_library(http_parser http_parser http_parser.h)
