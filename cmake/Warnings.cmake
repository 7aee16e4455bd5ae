# uiscsi_warnings: the warning set every target uses. -Werror everywhere; -Wconversion on libraries.
add_library(uiscsi_warnings INTERFACE)
target_compile_options(uiscsi_warnings INTERFACE
  -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough -Wformat=2)

# Stricter set for library code under src/: implicit narrowing must be spelled out.
add_library(uiscsi_strict_warnings INTERFACE)
target_link_libraries(uiscsi_strict_warnings INTERFACE uiscsi_warnings)
target_compile_options(uiscsi_strict_warnings INTERFACE -Wconversion -Wsign-conversion)

# uiscsi_add_library(name SOURCES ...): one static library per src/ folder.
function(uiscsi_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  # include/ holds the public headers, ${PROJECT_BINARY_DIR}/include the generated
  # uiscsi/version.hpp, src/ the internal ones.
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                            ${PROJECT_BINARY_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE uiscsi_strict_warnings)
  # PIC with hidden visibility: the same objects make the installed shared libraries
  # (cmake/Package.cmake), which export only what include/uiscsi marks UISCSI_API.
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON CXX_VISIBILITY_PRESET hidden
                                           VISIBILITY_INLINES_HIDDEN ON)
endfunction()
