# A thin wrapper around CMake; see README.md.
#   make          build (build/micrograd, build/lib/micrograd/core.so, build/libmicrograd.a)
#   make test     every test, through ctest
#   make demo     train micrograd's moons classifier (examples/moons.lua)
#   make bench    the benchmarks of bench/
#   make docs     the API reference (LDoc) in build/docs
#   make fuzz     the libFuzzer targets, FUZZ_SECONDS (60) each (fuzz/run.sh; needs clang)
# Each first installs missing Debian packages (scripts/install-deps.sh).
#
# MG_LUA picks the Lua to build and test for: 5.4 (default), 5.3, 5.1 or
# luajit, e.g. `make test MG_LUA=luajit`. Each has its own build directory:
# build for 5.4, build-5.3, build-5.1, build-luajit (BUILD=dir overrides it).

MG_LUA ?= 5.4
ifeq ($(MG_LUA),5.4)
BUILD ?= build
else
BUILD ?= build-$(MG_LUA)
endif
CMAKE_FLAGS ?=
JOBS ?= 2
MAKEFLAGS += --no-print-directory

.PHONY: all build deps test demo bench docs clean fuzz

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DMG_LUA=$(MG_LUA) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure --timeout 600 -j $(JOBS)

demo: build
	@$(BUILD)/micrograd examples/moons.lua $(BUILD)

bench: build
	@cmake --build $(BUILD) --target bench

docs:
	@sh scripts/install-deps.sh lua-ldoc
	@ldoc . && echo "API reference: $(BUILD)/docs/index.html"

fuzz:
	@sh scripts/install-deps.sh clang libclang-rt-14-dev
	@bash fuzz/run.sh

clean:
	rm -rf $(BUILD)
