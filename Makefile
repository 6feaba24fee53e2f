# SliceGuard: `make demo` and `make test` are all a fresh Debian 12 machine needs.
BUILD      ?= build
BUILD_TYPE ?= Release
JOBS       ?= $(shell nproc)

.PHONY: all deps venv configure build test demo bench clean

all: build

deps:
	@scripts/install_deps.sh

venv: deps
	@scripts/make_venv.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: venv build
	cd $(BUILD) && OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=20 ctest --output-on-failure -j $(JOBS)   # see src/train/process_tuning.h

demo: venv build
	scripts/demo.sh $(BUILD)

# The JSON alone goes to stdout (`make bench > bench.json`); build output and progress go to stderr.
bench:
	@$(MAKE) --no-print-directory build >&2
	@$(BUILD)/bench/sliceguard_bench

clean:
	rm -rf $(BUILD)
