# SliceGuard: `make demo` and `make test` are all a fresh Debian 12 machine needs.
BUILD      ?= build
BUILD_TYPE ?= Release
JOBS       ?= $(shell nproc)

.PHONY: all deps venv configure build test demo bench bench-hf bench-ab clean

all: build

deps:
	@scripts/install_deps.sh

venv: deps
	@scripts/make_venv.sh

$(BUILD)/CMakeCache.txt: | venv   # LibTorch comes from the torch wheel in .venv
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: venv build
	cd $(BUILD) && OMP_WAIT_POLICY=PASSIVE ctest --output-on-failure -j $(JOBS)   # see src/runtime/process_tuning.h

# The demo runs only the `sliceguard` command: build that target, not the ~350 tests.
demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target sliceguard
	scripts/demo.sh $(BUILD)

# The JSON alone goes to stdout (`make bench > bench.json`); build output and progress go to stderr.
bench:
	@$(MAKE) --no-print-directory build >&2
	@$(BUILD)/bench/sliceguard_bench

# sliceguard finetune beside transformers + peft on the same torch, model and batches (bench/hf_peft.py).
bench-hf: configure
	@cmake --build $(BUILD) -j $(JOBS) --target sliceguard >&2
	@.venv/bin/python bench/hf_peft.py $(BUILD)/src/cli/sliceguard $(BUILD)/bench-hf

# This checkout against an earlier commit's build (default: the last one on Debian's LibTorch 1.13), one run.
AB_COMMIT ?= 33f242b
bench-ab: build
	@.venv/bin/python bench/runtime_ab.py $(AB_COMMIT) $(BUILD)

clean:
	rm -rf $(BUILD)
