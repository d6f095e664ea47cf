# The sqnsupgrade user C module for cmake-based MicroPython ports (esp32, rp2).
# Build with USER_C_MODULES=<this repository>/mpy_glue/micropython.cmake.
#
# The Rust engine must be built first as a static library for the board's target, with
# bindgen pointed at this MicroPython tree and port (see docs/BOARD.md), and its path given
# in SQN_RUST_LIB (cmake -DSQN_RUST_LIB=... or the environment).

add_library(usermod_sqnsupgrade INTERFACE)

target_sources(usermod_sqnsupgrade INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/modsqnsupgrade.c
)

target_include_directories(usermod_sqnsupgrade INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}
)

if(NOT SQN_RUST_LIB)
    set(SQN_RUST_LIB $ENV{SQN_RUST_LIB})
endif()
if(NOT SQN_RUST_LIB)
    message(FATAL_ERROR "sqnsupgrade: set SQN_RUST_LIB to the Rust engine's libsqnsupgrade.a (see docs/BOARD.md)")
endif()
target_link_libraries(usermod_sqnsupgrade INTERFACE ${SQN_RUST_LIB})

target_link_libraries(usermod INTERFACE usermod_sqnsupgrade)
