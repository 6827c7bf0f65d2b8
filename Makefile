# The commands the README promises. `make test` is what CI runs.
SWIFT ?= swift
export PATH := /opt/swift/usr/bin:$(PATH)

.PHONY: build test vectors bench release demo clean

build:
	$(SWIFT) build

# Replay the protocol vectors against the independent Python reference merge, then build
# everything (tests included) and run the Swift test suites.
test:
	python3 Protocol/reference_merge.py
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

vectors:
	python3 Protocol/reference_merge.py

release:
	$(SWIFT) build -c release

# Benchmarks of DESIGN.md's numbers (release build); figures go in BENCHMARKS.md.
bench: release
	.build/release/casesync-bench merge --records 100000
	.build/release/casesync-bench store --records 100000
	.build/release/casesync-bench sync --records 100000
	.build/release/casesync-bench export --records 100000

# A narrated tour: a node, two devices of one mediator, offline edits, a merge, a conflict.
demo:
	bash scripts/demo.sh

clean:
	rm -rf .build
