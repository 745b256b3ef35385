# Thin wrapper over CMake + CTest.  `make demo` and `make test` install any
# missing Debian packages first (scripts/install-deps.sh).
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
RELEASE := build/release
DEBUG   := build/debug
ASAN    := build/asan
FUZZ    := build/fuzz
PREFIX  ?= /usr/local

.PHONY: all deps release debug asan test demo bench fuzz install format clean

all: release

deps:
	@bash scripts/install-deps.sh

release:
	cmake -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(RELEASE) -j $(JOBS)

debug:
	cmake -S . -B $(DEBUG) -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(DEBUG) -j $(JOBS)

asan:
	cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DAQ_SANITIZE=ON -DAQ_WERROR=ON -DAQ_BENCH=OFF >/dev/null
	cmake --build $(ASAN) -j $(JOBS)

# Every test, under ASan+UBSan, with CTest's summary at the end.
test: deps asan
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS)

demo: deps release
	@bash scripts/demo.sh $(RELEASE)

bench: deps release
	@bash bench/run.sh $(RELEASE)

# libFuzzer builds (clang); each target also runs as a corpus replay in `make test`.
fuzz:
	CC=clang cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=Debug -DAQ_FUZZ=ON -DAQ_SANITIZE=ON -DAQ_BENCH=OFF >/dev/null
	cmake --build $(FUZZ) -j $(JOBS)

install: release
	cmake --install $(RELEASE)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
