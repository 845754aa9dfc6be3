# A thin wrapper around CMake; see README.md.
#   make          build (build/micrograd, build/lib/micrograd/core.so, build/libmicrograd.a)
#   make test     every test, through ctest
#   make demo     train micrograd's moons classifier (examples/moons.lua)
#   make bench    the benchmarks of bench/
#   make docs     the API reference (LDoc) in build/docs
#   make fuzz     the libFuzzer targets, FUZZ_SECONDS (60) each (fuzz/run.sh; needs clang)
# Each first installs missing Debian packages (scripts/install-deps.sh).

BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= 2
MAKEFLAGS += --no-print-directory

.PHONY: all build deps test demo bench docs clean fuzz

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
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
