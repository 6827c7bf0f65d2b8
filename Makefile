# The commands the README promises. `make test` is what CI runs.
SWIFT ?= swift
export PATH := /opt/swift/usr/bin:$(PATH)

.PHONY: build test vectors bench release demo docs clean

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

# The DocC documentation of the client core (SyncModel, SyncStore, SyncClient) into
# .build/docs; fails on any DocC warning (a broken symbol link, an unknown topic).
docs:
	$(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation \
		--target SyncModel --target SyncStore --target SyncClient --output-path .build/docs 2>&1 | tee .build/docs.log
	@! grep -E "warning:|error:" .build/docs.log

# A narrated tour: a node, two devices of one mediator, offline edits, a merge, a conflict.
demo:
	bash scripts/demo.sh

clean:
	rm -rf .build
