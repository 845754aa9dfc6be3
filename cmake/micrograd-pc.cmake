# Writes a micrograd .pc file at install time (install(CODE) in
# cmake/install.cmake sets MG_PC_IN, MG_PC_OUT, MG_PC_VERSION, MG_PC_LUA,
# MG_PC_LUA_NAME, MG_PC_LIBNAME and the directories, each relative to the
# install prefix or absolute). CMAKE_INSTALL_PREFIX is then
# the prefix being installed to, without DESTDIR.
set(MG_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(dir LIBDIR INCLUDEDIR CMOD LMOD)
  if(IS_ABSOLUTE "${MG_PC_${dir}}")
    set(MG_PC_${dir}_FULL "${MG_PC_${dir}}")
  else()
    set(MG_PC_${dir}_FULL "\${prefix}/${MG_PC_${dir}}")
  endif()
endforeach()
configure_file("${MG_PC_IN}" "${MG_PC_OUT}" @ONLY)
