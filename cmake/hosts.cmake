# micrograd in real hosts from Debian's packages, nothing of ours patched in
# (tests/hosts/): LÖVE 11.4 and Neovim run LuaJIT, rpm runs Lua 5.3. Each
# host's test is registered when this build's Lua is the host's
# (-DMG_LUA=luajit for LÖVE and Neovim, -DMG_LUA=5.3 for rpm) and the host
# program is found. Under CI (environment CI=true) a missing program is a test
# that fails and says what to install, never a silent skip.
#
# Two tests run in every build: the LÖVE game's learning side without LÖVE,
# and the line classifier's model file, trained again (the same bits in
# every Lua).

set(MG_HOSTS_DIR ${CMAKE_SOURCE_DIR}/tests/hosts)
set(MG_HOSTS_OUT ${CMAKE_BINARY_DIR}/hosts)
set(MG_HOSTS_LUA ${MG_LUA}) # 5.4, 5.3, 5.1 or luajit (CMakeLists.txt)

# examples/love/brain.lua learns the scripted clicks (and an untrained one does not).
add_test(NAME hosts_love_brain COMMAND micrograd ${MG_HOSTS_DIR}/love_brain.lua ${CMAKE_SOURCE_DIR})
set_tests_properties(hosts_love_brain PROPERTIES PASS_REGULAR_EXPRESSION "[0-9]+ steps, 0 on the wrong side \\(0 grid cells\\)")
add_test(NAME hosts_love_brain_untrained COMMAND micrograd ${MG_HOSTS_DIR}/love_brain.lua ${CMAKE_SOURCE_DIR} 0)
# tests/hosts/fixtures/linekind.json is what tests/hosts/linekind_train.lua trains, bit for bit.
add_test(NAME hosts_linekind_model
  COMMAND sh -c "\"$0\" \"$1\" \"$2\" && cmp \"$2\" \"$3\""
          $<TARGET_FILE:micrograd> ${MG_HOSTS_DIR}/linekind_train.lua ${MG_HOSTS_OUT}/linekind.json
          ${MG_HOSTS_DIR}/fixtures/linekind.json)
set_tests_properties(hosts_linekind_model PROPERTIES PASS_REGULAR_EXPRESSION "24 of 24 training lines right")
file(MAKE_DIRECTORY ${MG_HOSTS_OUT})

# mg_host(NAME LUA PROGRAMS... [COMMAND args...]): the test hosts_NAME when
# this build's Lua is LUA and every program is found.
# Not in a sanitizer or fuzzing build: its core.so needs the sanitizer runtime
# loaded first, in programs that are not ours (and not built for it).
function(mg_host name lua)
  cmake_parse_arguments(PARSE_ARGV 2 host "" "PASS" "PROGRAMS;COMMAND")
  if(NOT MG_HOSTS_LUA STREQUAL lua)
    return()
  endif()
  if(MG_SANITIZE OR MG_FUZZ)
    message(STATUS "hosts_${name}: not registered in a sanitizer build (the host programs are not instrumented)")
    return()
  endif()
  set(missing "")
  foreach(program IN LISTS host_PROGRAMS)
    string(TOUPPER "MG_HOST_${program}" var)
    string(REPLACE "-" "_" var ${var})
    find_program(${var} ${program})
    if(NOT ${var})
      list(APPEND missing ${program})
    endif()
  endforeach()
  if(missing)
    if("$ENV{CI}" STREQUAL "true")
      message(WARNING "hosts_${name}: ${missing} not found (CI=true: the test fails)")
      add_test(NAME hosts_${name} COMMAND sh -c "echo 'hosts_${name}: not found: ${missing} (see .ci/run)' >&2; exit 1")
    else()
      message(STATUS "hosts_${name}: not registered (not found: ${missing})")
    endif()
    return()
  endif()
  add_test(NAME hosts_${name} COMMAND ${host_COMMAND} WORKING_DIRECTORY ${MG_HOSTS_OUT})
  set_tests_properties(hosts_${name} PROPERTIES PASS_REGULAR_EXPRESSION "${host_PASS}" TIMEOUT 120)
endfunction()

# LÖVE under Xvfb, with and without training; alone (RUN_SERIAL), so that the
# frame times it prints are the game's and not the other tests'.
foreach(mode trained untrained)
  if(mode STREQUAL "trained")
    set(pass "the boundary separates the clicked classes")
  else()
    set(pass "untrained, the pixel check fails as it must")
  endif()
  mg_host(love_${mode} luajit PROGRAMS love xvfb-run xauth convert PASS "${pass}"
    COMMAND sh ${MG_HOSTS_DIR}/love.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR} ${MG_HOSTS_OUT}
            $<TARGET_FILE:micrograd> ${mode})
  if(TEST hosts_love_${mode})
    set_tests_properties(hosts_love_${mode} PROPERTIES RUN_SERIAL TRUE)
  endif()
endforeach()

mg_host(nvim luajit PROGRAMS nvim PASS "10 of 10 lines labelled as expected, model read 1 time"
  COMMAND sh ${MG_HOSTS_DIR}/nvim.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})

mg_host(rpm 5.3 PROGRAMS rpm PASS "labelled 10 lines as expected, model read once"
  COMMAND sh ${MG_HOSTS_DIR}/rpm.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
