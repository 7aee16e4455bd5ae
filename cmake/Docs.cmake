# `ninja docs`: the API reference (HTML) from the comments in include/uiscsi, with Doxygen.
# The headers use plain // comments; doc/doxygen_filter.py turns them into Doxygen comments on
# the fly, so the headers stay as they are. Any Doxygen warning fails the target
# (WARN_AS_ERROR = FAIL_ON_WARNINGS), and tests/package runs it as the test package.docs.
find_package(Doxygen QUIET)
if(DOXYGEN_FOUND)
  configure_file(${PROJECT_SOURCE_DIR}/doc/Doxyfile.in ${PROJECT_BINARY_DIR}/doc/Doxyfile @ONLY)
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/doc/api
    COMMAND Doxygen::doxygen ${PROJECT_BINARY_DIR}/doc/Doxyfile
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR}/doc
    COMMENT "API reference in ${PROJECT_BINARY_DIR}/doc/api/html"
    VERBATIM)
endif()
