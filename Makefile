# The front door: `make demo` and `make test` do all the set-up on a fresh
# Debian 12 machine. Everything else is a helper of those two.
SHELL := /bin/bash
BUILD_RELEASE := build/release
BUILD_ASAN := build/asan
BUILD_SCALAR := build/scalar
BUILD_TSAN := build/tsan
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all demo test build build-asan build-tsan test-tsan deps deps-runtime lint unit unit-scalar fuzz bench eval clean help

all: build

help:
	@echo "make demo   run the pipeline on the embedded dev broker"
	@echo "make test   build with ASan/UBSan, lint, run every test (real Kafka broker)"
	@echo "make build  release build in $(BUILD_RELEASE)"
	@echo "make lint   clang-format check and banned-function check"
	@echo "make unit   unit tests only (no broker)"
	@echo "make unit-scalar  the text tests without the SSE2 paths ($(BUILD_SCALAR))"
	@echo "make test-tsan  the classify tests against a ThreadSanitizer newstap ($(BUILD_TSAN))"
	@echo "make fuzz   build the libFuzzer targets with clang (build/fuzz)"
	@echo "make bench  build the benchmarks (build/release/bench)"
	@echo "make eval   score the shipped rules on the development set ($(DEVSET))"

deps:
	@scripts/install-deps

deps-runtime:
	@scripts/install-deps --no-java

build: deps-runtime
	@cmake -S . -B $(BUILD_RELEASE) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_RELEASE) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DNT_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

# ThreadSanitizer (not with ASan: one sanitizer runtime per process):
# newstap alone, since Criterion cannot run under TSan (Criterion issue
# 274). test-tsan runs the classify tests (real broker) from the ASan
# build against it; each process with a race leaves a report file.
build-tsan: deps
	@cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=Debug -DNT_TSAN=ON -DNT_TESTS=OFF -DNT_BENCH=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_TSAN) -j $(JOBS)

test-tsan: build-asan build-tsan
	@rm -f $(BUILD_TSAN)/race.*; \
	 NT_FIXTURES=$(CURDIR)/tests/fixtures NT_SOURCE_DIR=$(CURDIR) \
	 NT_NEWSTAP_BIN=$(CURDIR)/$(BUILD_TSAN)/newstap \
	 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	 TSAN_OPTIONS=log_path=$(CURDIR)/$(BUILD_TSAN)/race:suppressions=$(CURDIR)/tests/tsan/tsan.supp \
	 scripts/with-kafka $(BUILD_ASAN)/tests/kafka_classify --filter='real/*' --jobs=1 --verbose; \
	 rc=$$?; \
	 if ls $(BUILD_TSAN)/race.* >/dev/null 2>&1; then \
	   echo "ThreadSanitizer reports:"; ls $(BUILD_TSAN)/race.*; rc=1; \
	 else echo "no ThreadSanitizer report"; fi; \
	 exit $$rc

demo: build
	@$(BUILD_RELEASE)/newstap demo

lint: deps
	@scripts/lint

unit: build-asan
	@ctest --test-dir $(BUILD_ASAN) -L unit --output-on-failure

# Every test, under the sanitizers, with a real Kafka broker that
# scripts/with-kafka starts before and always stops after; then the text
# tests again without the SSE2 paths, as a build for another CPU runs.
test: lint build-asan
	@scripts/with-kafka ctest --test-dir $(BUILD_ASAN) --output-on-failure --timeout 900
	@$(MAKE) --no-print-directory unit-scalar

# The tokeniser, matcher and JSON reader tests on the scalar paths alone
# (NT_NO_SIMD).
unit-scalar: deps
	@cmake -S . -B $(BUILD_SCALAR) -DCMAKE_BUILD_TYPE=Debug -DNT_SANITIZE=ON -DNT_NO_SIMD=ON -DNT_BENCH=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_SCALAR) -j $(JOBS) --target test_normalize test_match test_enrich test_classify test_json_in
	@ctest --test-dir $(BUILD_SCALAR) --output-on-failure -R '^test_(normalize|match|enrich|classify|json_in)$$'

# libFuzzer targets (tests/fuzz/fuzz_*.c) built with clang in build/fuzz.
# Run one with e.g. build/fuzz/fuzz_feed -max_total_time=300 tests/fuzz/corpus/feed
fuzz:
	@scripts/install-deps --no-java --fuzz
	@CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNT_FUZZ=ON -DNT_TESTS=OFF -DNT_BENCH=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build build/fuzz -j $(JOBS)
	@ls build/fuzz/fuzz_* 2>/dev/null | sed 's/^/built: /'

# Benchmarks (bench/*.c), release build.
bench: build
	@ls $(BUILD_RELEASE)/bench/ 2>/dev/null | grep -v -e CMake -e Makefile -e cmake_install | sed 's|^|$(BUILD_RELEASE)/bench/|'

# The labels' quality: the shipped rules over the development set
# (../shared/devset, labelled by ../shared/context/RUBRIC.md), offline;
# prints score.py's table and its last line (macro-F1 overall and per
# language). The events are kept in $(BUILD_RELEASE)/devset-events.jsonl.
DEVSET ?= ../shared/devset
eval: build
	@$(BUILD_RELEASE)/newstap classify --offline < $(DEVSET)/articles.jsonl > $(BUILD_RELEASE)/devset-events.jsonl
	@python3 $(DEVSET)/score.py $(BUILD_RELEASE)/devset-events.jsonl

clean:
	rm -rf build
