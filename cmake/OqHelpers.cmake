# Small helpers so each module's CMakeLists states only what it is and what it needs.

set(OQ_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wconversion -Wno-sign-conversion)

function(oq_apply_common target)
  target_compile_options(${target} PRIVATE ${OQ_WARNINGS})
  if(OQ_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# oq_module(NAME SOURCES ... PUBLIC_DEPS ... PRIVATE_DEPS ...)
function(oq_module name)
  cmake_parse_arguments(M "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${M_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(${name} PUBLIC ${M_PUBLIC_DEPS} PRIVATE ${M_PRIVATE_DEPS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  oq_apply_common(${name})
endfunction()

# oq_plugin(NAME SYMBOL SOURCES ... PRIVATE_DEPS ...): a module that defines one descriptor constant
# named SYMBOL; the build collects every SYMBOL into the generated plugin table.
set_property(GLOBAL PROPERTY OQ_PLUGIN_SYMBOLS "")
set_property(GLOBAL PROPERTY OQ_PLUGIN_TARGETS "")
function(oq_plugin name)
  cmake_parse_arguments(P "" "SYMBOL" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  oq_module(${name} SOURCES ${P_SOURCES} PUBLIC_DEPS oq_core ${P_PUBLIC_DEPS} PRIVATE_DEPS ${P_PRIVATE_DEPS})
  set_property(GLOBAL APPEND PROPERTY OQ_PLUGIN_SYMBOLS ${P_SYMBOL})
  set_property(GLOBAL APPEND PROPERTY OQ_PLUGIN_TARGETS ${name})
endfunction()

# oq_test(NAME SOURCES ... DEPS ...): a GoogleTest executable registered with CTest.
function(oq_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE OQ_SHARED_DIR="${OQ_SHARED_DIR}" OQ_BINARY_DIR="${CMAKE_BINARY_DIR}"
    OQ_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  # oqtest/scratch_root.h: every test process's temporary files under one folder, removed at exit.
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/include)
  oq_apply_common(${name})
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "unit;${T_LABELS}")
endfunction()
