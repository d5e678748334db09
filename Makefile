# The front door: `make demo` and `make test` do all the set-up on a fresh
# Debian 12 machine. Everything else is a helper of those two.
SHELL := /bin/bash
BUILD_RELEASE := build/release
BUILD_ASAN := build/asan
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all demo test build build-asan deps deps-runtime lint unit clean help

all: build

help:
	@echo "make demo   run the pipeline on the embedded dev broker"
	@echo "make test   build with ASan/UBSan, lint, run every test (real Kafka broker)"
	@echo "make build  release build in $(BUILD_RELEASE)"
	@echo "make lint   clang-format check and banned-function check"
	@echo "make unit   unit tests only (no broker)"

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

demo: build
	@$(BUILD_RELEASE)/newstap demo

lint: deps
	@scripts/lint

unit: build-asan
	@ctest --test-dir $(BUILD_ASAN) -L unit --output-on-failure

# Every test, under the sanitizers, with a real Kafka broker that
# scripts/with-kafka starts before and always stops after.
test: lint build-asan
	@scripts/with-kafka ctest --test-dir $(BUILD_ASAN) --output-on-failure --timeout 900

clean:
	rm -rf build
