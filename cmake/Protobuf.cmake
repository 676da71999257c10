# mesos_protobuf_library(NAME PROTO_DIR DIR FILES a.proto b.proto ...)
# Generates protobuf-c sources from .proto files at build time into the build tree and compiles
# them into a static library NAME whose users include "<name>.pb-c.h".
function(mesos_protobuf_library name)
  cmake_parse_arguments(ARG "" "PROTO_DIR" "FILES" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${out})
  set(sources)
  # Every generated file depends on every .proto of the set: imports make a change to one
  # (a renamed type in mesos.proto) matter to the others.
  set(all_protos)
  foreach(proto ${ARG_FILES})
    list(APPEND all_protos ${ARG_PROTO_DIR}/${proto})
  endforeach()
  foreach(proto ${ARG_FILES})
    get_filename_component(base ${proto} NAME_WE)
    set(c ${out}/${base}.pb-c.c)
    set(h ${out}/${base}.pb-c.h)
    add_custom_command(
      OUTPUT ${c} ${h}
      COMMAND ${PROTOC_C} --c_out=${out} --proto_path=${ARG_PROTO_DIR} ${ARG_PROTO_DIR}/${proto}
      DEPENDS ${all_protos}
      COMMENT "protoc-c ${proto}")
    list(APPEND sources ${c})
  endforeach()
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PUBLIC ${out})
  target_link_libraries(${name} PUBLIC PkgConfig::PROTOBUF_C)
  # Generated code is not ours to warn about.
  target_compile_options(${name} PRIVATE -Wno-error)
endfunction()
