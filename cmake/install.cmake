# cmake/install.cmake - the install rules (included from CMakeLists.txt).

# Installation (`cmake --install build [--prefix DIR]`), in components:
#   lua      micrograd/core.so and micrograd/*.lua where stock lua5.4 looks
#   runtime  libmicrograd.so.* and the runner (bin/micrograd)
#   dev      libmicrograd.a, libmicrograd.so, the headers, micrograd.pc and
#            the CMake package (find_package(micrograd): micrograd::micrograd,
#            micrograd::micrograd_static)
# The Lua directories are relative to the prefix unless given absolute; their
# defaults are the ones stock lua5.4 searches (and LuaRocks uses) under any
# prefix: /usr/local/lib/lua/5.4 and /usr/local/share/lua/5.4 by default.
# The modules require("dkjson") at run time: Debian's lua-dkjson provides it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(MG_LUA_VERSION ${LUA_VERSION_MAJOR}.${LUA_VERSION_MINOR})
set(MG_LUA_CMOD_DIR "lib/lua/${MG_LUA_VERSION}" CACHE STRING
    "Where micrograd/core.so goes (relative: under the install prefix)")
set(MG_LUA_LMOD_DIR "${CMAKE_INSTALL_DATAROOTDIR}/lua/${MG_LUA_VERSION}" CACHE STRING
    "Where micrograd/*.lua go (relative: under the install prefix)")
set(MG_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/micrograd" CACHE STRING
    "Where the CMake package files go (relative: under the install prefix)")
set(MG_PC_LUA "lua${MG_LUA_VERSION}" CACHE STRING
    "pkg-config name of Lua in micrograd.pc's Requires (Debian: lua5.4)")

install(TARGETS micrograd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(TARGETS micrograd_module LIBRARY DESTINATION ${MG_LUA_CMOD_DIR}/micrograd COMPONENT lua)
install(DIRECTORY lua/micrograd/ DESTINATION ${MG_LUA_LMOD_DIR}/micrograd COMPONENT lua
        FILES_MATCHING PATTERN "*.lua")

install(TARGETS micrograd_shared micrograd_lib EXPORT micrograd-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# micrograd.h at the top; the Lua-free core API it points to in micrograd/.
install(FILES src/micrograd.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(FILES src/engine.h src/tape.h src/rng.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/micrograd COMPONENT dev)

install(EXPORT micrograd-targets NAMESPACE micrograd:: FILE micrograd-targets.cmake
        DESTINATION ${MG_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(cmake/micrograd-config.cmake.in
  ${CMAKE_BINARY_DIR}/pkg/micrograd-config.cmake INSTALL_DESTINATION ${MG_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR MG_LUA_CMOD_DIR MG_LUA_LMOD_DIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/pkg/micrograd-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/pkg/micrograd-config.cmake
              ${CMAKE_BINARY_DIR}/pkg/micrograd-config-version.cmake
        DESTINATION ${MG_CMAKE_DIR} COMPONENT dev)

# micrograd.pc is written at install time, so that its prefix is the one
# installed to (cmake --install --prefix DIR), not the configured one.
install(CODE "
  set(MG_PC_IN \"${CMAKE_CURRENT_SOURCE_DIR}/cmake/micrograd.pc.in\")
  set(MG_PC_OUT \"${CMAKE_BINARY_DIR}/pkg/micrograd.pc\")
  set(MG_PC_VERSION \"${PROJECT_VERSION}\")
  set(MG_PC_LUA \"${MG_PC_LUA}\")
  set(MG_PC_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(MG_PC_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(MG_PC_CMOD \"${MG_LUA_CMOD_DIR}\")
  set(MG_PC_LMOD \"${MG_LUA_LMOD_DIR}\")
  include(\"${CMAKE_CURRENT_SOURCE_DIR}/cmake/micrograd-pc.cmake\")
" COMPONENT dev)
install(FILES ${CMAKE_BINARY_DIR}/pkg/micrograd.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
