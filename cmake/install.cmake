# cmake/install.cmake - the install rules (included from CMakeLists.txt).
#
# `cmake --install build [--prefix DIR]`, in components:
#   lua      micrograd/core.so and micrograd/*.lua where the stock interpreter
#            of the Lua built for (MG_LUA) looks
#   runtime  libmicrograd*.so.* and the runner (bin/micrograd*)
#   dev      libmicrograd*.a, libmicrograd*.so, the headers, the pkg-config
#            file(s) and the CMake package (find_package(micrograd):
#            micrograd::micrograd, micrograd::micrograd_static)
#
# One build is for one Lua (MG_LUA: 5.4, the default, 5.3, 5.1 or luajit);
# builds for different Luas install side by side under one prefix:
#
#   MG_LUA  Lua modules, C module            library            runner            pkg-config              find_package(micrograd ...)
#   5.4     share/lua/5.4, lib/lua/5.4       libmicrograd       micrograd         micrograd, micrograd-5.4  (no component) or COMPONENTS 5.4
#   5.3     share/lua/5.3, lib/lua/5.3       libmicrograd-5.3   micrograd-5.3     micrograd-5.3           COMPONENTS 5.3
#   5.1     share/lua/5.1, lib/lua/5.1       libmicrograd-5.1   micrograd-5.1     micrograd-5.1           COMPONENTS 5.1
#   luajit  share/lua/5.1, lib/lua/5.1       libmicrograd-luajit micrograd-luajit micrograd-luajit        COMPONENTS luajit
#
# 5.4 keeps the unsuffixed names (it is the primary target). LuaJIT searches
# 5.1's directories, as every C module for LuaJIT does: a 5.1 and a LuaJIT
# build installed to one prefix share share/lua/5.1 (the same files) and
# lib/lua/5.1/micrograd/core.so (the last one installed; a 5.1 build also
# loads in LuaJIT). The headers are the same for every Lua. The Lua
# directories are relative to the prefix unless given absolute (MG_LUA_CMOD_DIR,
# MG_LUA_LMOD_DIR; empty: the defaults above, which stock interpreters search
# under /usr/local and LuaRocks uses under any prefix). The modules
# require("dkjson") at run time: Debian's lua-dkjson provides it for each Lua.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(NOT DEFINED MG_LUA OR "${MG_LUA}" STREQUAL "")
  set(MG_INSTALL_LUA 5.4)
else()
  set(MG_INSTALL_LUA ${MG_LUA})
endif()
if(MG_INSTALL_LUA STREQUAL "luajit")
  set(MG_INSTALL_ABI 5.1) # the directories LuaJIT searches
  set(MG_INSTALL_PC_LUA_DEFAULT luajit)
elseif(MG_INSTALL_LUA MATCHES "^5\\.[134]$")
  set(MG_INSTALL_ABI ${MG_INSTALL_LUA})
  set(MG_INSTALL_PC_LUA_DEFAULT lua${MG_INSTALL_LUA})
else()
  message(FATAL_ERROR "cmake/install.cmake: MG_LUA is '${MG_LUA}'; one of 5.4, 5.3, 5.1, luajit")
endif()
if(MG_INSTALL_LUA STREQUAL "5.4")
  set(MG_INSTALL_SUFFIX "")
else()
  set(MG_INSTALL_SUFFIX "-${MG_INSTALL_LUA}")
endif()

set(MG_LUA_CMOD_DIR "" CACHE STRING
    "Where micrograd/core.so goes (relative: under the install prefix; empty: lib/lua/<Lua version>)")
set(MG_LUA_LMOD_DIR "" CACHE STRING
    "Where micrograd/*.lua go (relative: under the install prefix; empty: share/lua/<Lua version>)")
set(MG_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/micrograd" CACHE STRING
    "Where the CMake package files go (relative: under the install prefix)")
set(MG_PC_LUA "" CACHE STRING
    "pkg-config name of Lua in micrograd's .pc Requires (empty: Debian's, lua5.4 ... luajit)")
set(MG_INSTALL_CMOD "${MG_LUA_CMOD_DIR}")
if(MG_INSTALL_CMOD STREQUAL "")
  set(MG_INSTALL_CMOD "lib/lua/${MG_INSTALL_ABI}")
endif()
set(MG_INSTALL_LMOD "${MG_LUA_LMOD_DIR}")
if(MG_INSTALL_LMOD STREQUAL "")
  set(MG_INSTALL_LMOD "${CMAKE_INSTALL_DATAROOTDIR}/lua/${MG_INSTALL_ABI}")
endif()
set(MG_INSTALL_PC_LUA "${MG_PC_LUA}")
if(MG_INSTALL_PC_LUA STREQUAL "")
  set(MG_INSTALL_PC_LUA ${MG_INSTALL_PC_LUA_DEFAULT})
endif()

# The libraries carry the Lua version in their names (but for 5.4), so that
# their SONAMEs differ: libmicrograd-5.3.so.0.1 and so on.
set_target_properties(micrograd_lib micrograd_shared PROPERTIES OUTPUT_NAME micrograd${MG_INSTALL_SUFFIX})

install(PROGRAMS $<TARGET_FILE:micrograd> DESTINATION ${CMAKE_INSTALL_BINDIR}
        RENAME micrograd${MG_INSTALL_SUFFIX} COMPONENT runtime)
install(TARGETS micrograd_module LIBRARY DESTINATION ${MG_INSTALL_CMOD}/micrograd COMPONENT lua)
install(DIRECTORY lua/micrograd/ DESTINATION ${MG_INSTALL_LMOD}/micrograd COMPONENT lua
        FILES_MATCHING PATTERN "*.lua")

install(TARGETS micrograd_shared micrograd_lib EXPORT micrograd-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# micrograd.h at the top; the Lua-free core API it points to in micrograd/.
install(FILES src/micrograd.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(FILES src/core/engine.h src/core/ops.h src/core/tape.h src/core/rng.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/micrograd COMPONENT dev)

# The CMake package: micrograd-config.cmake (the same for every Lua) picks the
# component's micrograd-lua-<MG_LUA>.cmake, which finds that Lua and includes
# micrograd-targets-<MG_LUA>.cmake.
install(EXPORT micrograd-targets NAMESPACE micrograd:: FILE micrograd-targets-${MG_INSTALL_LUA}.cmake
        DESTINATION ${MG_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(cmake/micrograd-config.cmake.in
  ${CMAKE_BINARY_DIR}/pkg/micrograd-config.cmake INSTALL_DESTINATION ${MG_CMAKE_DIR}
  NO_SET_AND_CHECK_MACRO NO_CHECK_REQUIRED_COMPONENTS_MACRO)
configure_package_config_file(cmake/micrograd-lua.cmake.in
  ${CMAKE_BINARY_DIR}/pkg/micrograd-lua-${MG_INSTALL_LUA}.cmake INSTALL_DESTINATION ${MG_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR MG_INSTALL_CMOD MG_INSTALL_LMOD)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/pkg/micrograd-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/pkg/micrograd-config.cmake
              ${CMAKE_BINARY_DIR}/pkg/micrograd-config-version.cmake
              ${CMAKE_BINARY_DIR}/pkg/micrograd-lua-${MG_INSTALL_LUA}.cmake
        DESTINATION ${MG_CMAKE_DIR} COMPONENT dev)

# micrograd-<MG_LUA>.pc (and micrograd.pc for 5.4) are written at install
# time, so that their prefix is the one installed to (cmake --install
# --prefix DIR), not the configured one.
set(MG_INSTALL_PC_FILES micrograd-${MG_INSTALL_LUA}.pc)
if(MG_INSTALL_LUA STREQUAL "5.4")
  list(APPEND MG_INSTALL_PC_FILES micrograd.pc)
endif()
foreach(pc IN LISTS MG_INSTALL_PC_FILES)
  install(CODE "
    set(MG_PC_IN \"${CMAKE_CURRENT_SOURCE_DIR}/cmake/micrograd.pc.in\")
    set(MG_PC_OUT \"${CMAKE_BINARY_DIR}/pkg/${pc}\")
    set(MG_PC_VERSION \"${PROJECT_VERSION}\")
    set(MG_PC_LUA \"${MG_INSTALL_PC_LUA}\")
    set(MG_PC_LUA_NAME \"${MG_INSTALL_LUA}\")
    set(MG_PC_LIBNAME \"micrograd${MG_INSTALL_SUFFIX}\")
    set(MG_PC_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
    set(MG_PC_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
    set(MG_PC_CMOD \"${MG_INSTALL_CMOD}\")
    set(MG_PC_LMOD \"${MG_INSTALL_LMOD}\")
    include(\"${CMAKE_CURRENT_SOURCE_DIR}/cmake/micrograd-pc.cmake\")
  " COMPONENT dev)
  install(FILES ${CMAKE_BINARY_DIR}/pkg/${pc} DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
endforeach()
