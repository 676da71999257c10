# Run by `cmake --install` (and by cpack): installs mesos-init-wrapper, the systemd units and
# the default flag files with the paths of this installation written in.
#
# The paths depend on the install prefix, which is known only now (`cmake --install --prefix`,
# and cpack installs with /usr), so the templates are filled here and not at configure time:
#   prefix /usr or /usr/local: configuration in /etc, state in /var, as a system daemon's is
#   any other prefix:          <prefix>/etc and <prefix>/var, so that a scratch installation
#                              touches nothing outside it
# Units go to <prefix>/lib/systemd/system, a directory systemd reads for both system prefixes.
# MESOS_PACKAGING_DIR (set by packaging/CMakeLists.txt) is where the templates are. Files that
# exist already under etc/ are kept: an operator's edits survive a reinstall.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr" OR prefix STREQUAL "/usr/local")
  set(SYSCONFDIR /etc)
  set(LOCALSTATEDIR /var)
else()
  set(SYSCONFDIR "${prefix}/etc")
  set(LOCALSTATEDIR "${prefix}/var")
endif()
set(BINDIR "${prefix}/bin")
set(UNITDIR "${prefix}/lib/systemd/system")
set(staging "${CMAKE_CURRENT_LIST_DIR}/packaging-staging")
file(REMOVE_RECURSE "${staging}")

# put(TEMPLATE DIR PERMISSIONS...): fills TEMPLATE and installs it into DIR.
function(put template dir)
  get_filename_component(name "${template}" NAME)
  string(REGEX REPLACE "\\.in$" "" name "${name}")
  file(READ "${template}" text)
  string(CONFIGURE "${text}" text @ONLY)
  file(WRITE "${staging}/${name}" "${text}")
  file(INSTALL DESTINATION "${dir}" TYPE FILE PERMISSIONS ${ARGN} FILES "${staging}/${name}")
endfunction()

set(exec OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(data OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

put("${MESOS_PACKAGING_DIR}/mesos-init-wrapper.in" "${BINDIR}" ${exec})
file(GLOB units "${MESOS_PACKAGING_DIR}/systemd/*.service.in")
foreach(unit ${units})
  put("${unit}" "${UNITDIR}" ${data})
endforeach()
# Mesos's old name for the agent, as a link, so that `systemctl start mesos-slave` works before
# the unit is enabled (enabling adds the same alias through Alias=).
file(CREATE_LINK mesos-agent.service "${staging}/mesos-slave.service" SYMBOLIC)
file(INSTALL DESTINATION "${UNITDIR}" TYPE FILE FILES "${staging}/mesos-slave.service")

file(GLOB_RECURSE defaults RELATIVE "${MESOS_PACKAGING_DIR}/etc" "${MESOS_PACKAGING_DIR}/etc/*")
foreach(rel ${defaults})
  get_filename_component(sub "${rel}" DIRECTORY)
  if(EXISTS "$ENV{DESTDIR}${SYSCONFDIR}/${rel}")
    message(STATUS "Keeping: $ENV{DESTDIR}${SYSCONFDIR}/${rel}")
  else()
    put("${MESOS_PACKAGING_DIR}/etc/${rel}" "${SYSCONFDIR}/${sub}" ${data})
  endif()
endforeach()

# The daemons' default work directories (they would create them too).
foreach(dir lib/mesos lib/mesos-agent lib/marathon)
  file(MAKE_DIRECTORY "$ENV{DESTDIR}${LOCALSTATEDIR}/${dir}")
endforeach()
file(REMOVE_RECURSE "${staging}")
