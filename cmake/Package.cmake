# Installation and packaging of libuiscsi (issue 11).
#
# The per-folder static libraries (uiscsi_add_library in cmake/Warnings.cmake) are compiled once,
# PIC and with hidden visibility. Their objects make the installed libraries:
#   libuiscsi.so.<SOVERSION> / libuiscsi.a            initiator + core + net + scsi  (uiscsi::uiscsi)
#   libuiscsi-tape.so.<SOVERSION> / libuiscsi-tape.a  the SSC-3/SMC-3 driver           (uiscsi::tape)
# The shared libraries export only the declarations include/uiscsi marks UISCSI_API. The static
# archives are single files, so a consumer never sees the internal per-folder libraries.
# Tools, tests and examples keep linking the per-folder static libraries.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# ABI version of the shared libraries (libuiscsi.so.<SOVERSION>). While the project is 0.x every
# minor release may break the ABI, so the SOVERSION is major.minor (0.1 for 0.1.x); from 1.0 on it
# will be the major version alone.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(UISCSI_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
else()
  set(UISCSI_SOVERSION ${PROJECT_VERSION_MAJOR})
endif()

# uiscsi/version.hpp (compile-time macros) and uiscsi::version() (run time).
configure_file(${PROJECT_SOURCE_DIR}/cmake/version.hpp.in
               ${PROJECT_BINARY_DIR}/include/uiscsi/version.hpp @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/version.cpp.in ${PROJECT_BINARY_DIR}/generated/version.cpp
               @ONLY)
target_sources(uiscsi PRIVATE ${PROJECT_BINARY_DIR}/generated/version.cpp)

set(uiscsi_objects $<TARGET_OBJECTS:uiscsi_core> $<TARGET_OBJECTS:uiscsi_scsi>
                   $<TARGET_OBJECTS:uiscsi_net> $<TARGET_OBJECTS:uiscsi>)
set(uiscsi_tape_objects $<TARGET_OBJECTS:uiscsi_tape>)

# uiscsi_package_library(target TYPE SHARED|STATIC OUTPUT name EXPORT_NAME name OBJECTS ...
#                        [DEPS public dependencies...] [PRIVATE_DEPS ...])
function(uiscsi_package_library target)
  cmake_parse_arguments(ARG "" "OUTPUT;EXPORT_NAME;TYPE" "OBJECTS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${target} ${ARG_TYPE} ${ARG_OBJECTS})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${ARG_OUTPUT} EXPORT_NAME ${ARG_EXPORT_NAME}
                                             LINKER_LANGUAGE CXX)
  target_include_directories(${target} INTERFACE
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${target} INTERFACE cxx_std_20)
  if(ARG_TYPE STREQUAL "SHARED")
    set_target_properties(${target} PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${UISCSI_SOVERSION})
    # Fail at link time, not at load time, if an object needs a symbol nobody provides (not with
    # sanitizers or libFuzzer, whose runtimes only the final executable links).
    if(NOT UISCSI_SANITIZE AND NOT UISCSI_BUILD_FUZZERS)
      target_link_options(${target} PRIVATE -Wl,--no-undefined)
    endif()
    # Export only namespace uiscsi (cmake/uiscsi.map).
    target_link_options(${target} PRIVATE -Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/uiscsi.map)
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${PROJECT_SOURCE_DIR}/cmake/uiscsi.map)
  endif()
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# The shared libraries link OpenSSL and the thread library privately: a consumer of the shared
# library needs neither at link time. The static archives pass them on.
uiscsi_package_library(uiscsi_shared TYPE SHARED OUTPUT uiscsi EXPORT_NAME uiscsi
                       OBJECTS ${uiscsi_objects} PRIVATE_DEPS OpenSSL::Crypto Threads::Threads)
uiscsi_package_library(uiscsi_static TYPE STATIC OUTPUT uiscsi EXPORT_NAME uiscsi_static
                       OBJECTS ${uiscsi_objects} DEPS OpenSSL::Crypto Threads::Threads)
uiscsi_package_library(uiscsi_tape_shared TYPE SHARED OUTPUT uiscsi-tape EXPORT_NAME tape
                       OBJECTS ${uiscsi_tape_objects} DEPS uiscsi_shared)
uiscsi_package_library(uiscsi_tape_static TYPE STATIC OUTPUT uiscsi-tape EXPORT_NAME tape_static
                       OBJECTS ${uiscsi_tape_objects} DEPS uiscsi_static)

set(UISCSI_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/uiscsi)

install(TARGETS uiscsi_shared uiscsi_tape_shared EXPORT uiscsiTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev)
install(TARGETS uiscsi_static uiscsi_tape_static EXPORT uiscsiTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/uiscsi ${PROJECT_BINARY_DIR}/include/uiscsi
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev FILES_MATCHING PATTERN "*.hpp"
        # The TCMU backstore headers (include/uiscsi/tcmu) belong to uiscsi_tcmu, a static library
        # of the tools tapesim-tcmu and tcmu-ramdisk that is not installed (its API is young and
        # tied to the kernel's TCMU ABI); so they are not part of the installed API.
        PATTERN "tcmu" EXCLUDE)
install(EXPORT uiscsiTargets NAMESPACE uiscsi:: DESTINATION ${UISCSI_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/uiscsiConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/uiscsiConfig.cmake
                              INSTALL_DESTINATION ${UISCSI_CMAKE_DIR})
# 0.x: only the same minor version is compatible (the SOVERSION follows it too).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/uiscsiConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/uiscsiConfig.cmake ${PROJECT_BINARY_DIR}/uiscsiConfigVersion.cmake
        DESTINATION ${UISCSI_CMAKE_DIR} COMPONENT dev)

# pkg-config files, relocatable: prefix is found from the .pc file's own directory.
file(RELATIVE_PATH UISCSI_PC_PREFIX_FROM_PCDIR
     /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" UISCSI_PC_PREFIX_FROM_PCDIR "${UISCSI_PC_PREFIX_FROM_PCDIR}")
foreach(pc uiscsi uiscsi-tape)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
          COMPONENT dev)
endforeach()

# Programs: every executable defined under tools/ (found from the build system, so a new tool is
# installed without a change here). tests/package (package.man) checks that each has a man page
# in doc/man, so a program added there needs one.
function(uiscsi_collect_programs dir out)
  set(found)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "EXECUTABLE")
      list(APPEND found ${t})
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    uiscsi_collect_programs(${sub} sub_found)
    list(APPEND found ${sub_found})
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()
set(UISCSI_INSTALLED_PROGRAMS)
if(EXISTS ${PROJECT_SOURCE_DIR}/tools/CMakeLists.txt)
  uiscsi_collect_programs(${PROJECT_SOURCE_DIR}/tools UISCSI_INSTALLED_PROGRAMS)
  list(SORT UISCSI_INSTALLED_PROGRAMS)
endif()
foreach(tool ${UISCSI_INSTALLED_PROGRAMS})
  set(component tools)
  if(tool STREQUAL "tapeplayer")
    set(component tapeplayer)
  endif()
  install(TARGETS ${tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ${component})
endforeach()
message(VERBOSE "uiscsi: installed programs: ${UISCSI_INSTALLED_PROGRAMS}")

# Man pages (doc/man/*.[15], hand-written roff): tapeplayer's goes with tapeplayer.
file(GLOB uiscsi_man_pages ${PROJECT_SOURCE_DIR}/doc/man/*.[1-8])
foreach(page ${uiscsi_man_pages})
  get_filename_component(name ${page} NAME)
  string(REGEX REPLACE ".*\\.([1-8])$" "\\1" section ${name})
  set(component tools)
  if(name MATCHES "^tapeplayer\\.")
    set(component tapeplayer)
  endif()
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section} COMPONENT ${component})
endforeach()

include(${PROJECT_SOURCE_DIR}/cmake/Deb.cmake)
