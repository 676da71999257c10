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

# Libraries without pkg-config files in Debian 12.
function(mesos_find_plain_library target lib header)
  find_library(${target}_LIB ${lib} REQUIRED)
  find_path(${target}_INC ${header} REQUIRED)
  add_library(dep::${target} UNKNOWN IMPORTED)
  set_target_properties(dep::${target} PROPERTIES IMPORTED_LOCATION ${${target}_LIB}
                        INTERFACE_INCLUDE_DIRECTORIES ${${target}_INC})
endfunction()

mesos_find_plain_library(nng nng nng/nng.h)
mesos_find_plain_library(ev ev ev.h)
mesos_find_plain_library(http_parser http_parser http_parser.h)
