# CPack: Debian packages, one per install component (`cpack -G DEB` in the build tree).
#   libuiscsi       component lib:        the shared libraries
#   libuiscsi-dev   component dev:        headers, static libraries, CMake and pkg-config files
#   uiscsi-tools    component tools:      uiscsi-ls, -dd, -bench, -tape-dd, -mt, -changer,
#                                         uiscsi-target, tapesim-tcmu, tcmu-ramdisk and their
#                                         man pages
#   tapeplayer      component tapeplayer: tapeplayer and its man page
# Runtime dependencies come from dpkg-shlibdeps.
set(CPACK_PACKAGE_NAME uiscsi)
set(CPACK_PACKAGE_VENDOR "uiscsi")
set(CPACK_PACKAGE_CONTACT "uiscsi maintainers <uiscsi@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL lib dev tools tapeplayer)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Debian keeps debug information out of the packages.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libuiscsi-tape.so links libuiscsi.so from the same package.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)

set(CPACK_DEBIAN_LIB_PACKAGE_NAME libuiscsi${UISCSI_SOVERSION})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_COMPONENT_LIB_DESCRIPTION
    "Userspace iSCSI initiator library\n libuiscsi and libuiscsi-tape: an iSCSI initiator (RFC 7143) and SSC-3/SMC-3\n tape and changer drivers in C++20, without kernel iSCSI or root.")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libuiscsi-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libssl-dev")
set(CPACK_COMPONENT_DEV_DEPENDS lib)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "Userspace iSCSI initiator library (development files)\n Headers, static libraries, CMake package (find_package(uiscsi)) and pkg-config\n files (uiscsi.pc, uiscsi-tape.pc).")
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME uiscsi-tools)
set(CPACK_COMPONENT_TOOLS_DESCRIPTION
    "Userspace iSCSI tools and target\n uiscsi-ls, uiscsi-dd, uiscsi-bench, uiscsi-tape-dd, uiscsi-mt, uiscsi-changer and\n the userspace target uiscsi-target; tapesim-tcmu and tcmu-ramdisk serve a simulated\n tape drive or a RAM disk to the Linux kernel's LIO target through TCMU. With man\n pages.")
set(CPACK_DEBIAN_TAPEPLAYER_PACKAGE_NAME tapeplayer)
set(CPACK_DEBIAN_TAPEPLAYER_PACKAGE_SECTION sound)
set(CPACK_COMPONENT_TAPEPLAYER_DESCRIPTION
    "Play FLAC albums from an iSCSI tape drive\n tapeplayer reads FLAC files written to tape by uiscsi-tape-dd and plays them\n through ALSA, with a terminal interface.")

include(CPack)
