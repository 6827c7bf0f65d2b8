# The commands the README promises. `make test` is what CI runs.
SWIFT ?= swift
export PATH := /opt/swift/usr/bin:$(PATH)

.PHONY: build test vectors bench release demo docs man completions install clean

build:
	$(SWIFT) build

# Replay the protocol vectors against the independent Python reference merge, then build
# everything (tests included) and run the Swift test suites: the node's against SQLite and,
# when PostgreSQL is installed, a throw-away PostgreSQL cluster too (scripts/with-postgres.sh).
test:
	python3 Protocol/reference_merge.py
	$(SWIFT) build --build-tests
	scripts/with-postgres.sh $(SWIFT) test --skip-build

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

# Man pages and shell completions, generated from the commands themselves
# (swift-argument-parser), so they never drift from `--help`.
man:
	$(SWIFT) build -c release --product casesync
	$(SWIFT) build -c release --product casesyncd
	$(SWIFT) build --product generate-manual
	mkdir -p .build/man
	.build/debug/generate-manual .build/release/casesync --output-directory .build/man
	.build/debug/generate-manual .build/release/casesyncd --output-directory .build/man

completions:
	$(SWIFT) build -c release --product casesync
	$(SWIFT) build -c release --product casesyncd
	mkdir -p .build/completions
	for tool in casesync casesyncd; do \
		.build/release/$$tool --generate-completion-script bash > .build/completions/$$tool.bash; \
		.build/release/$$tool --generate-completion-script zsh > .build/completions/_$$tool; \
		.build/release/$$tool --generate-completion-script fish > .build/completions/$$tool.fish; \
	done

# Binaries, man pages and completions under PREFIX (default /usr/local; DESTDIR for packaging).
PREFIX ?= /usr/local
install: man completions
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 .build/release/casesync .build/release/casesyncd $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 .build/man/casesync.1 .build/man/casesyncd.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	for tool in casesync casesyncd; do \
		install -m 0644 .build/completions/$$tool.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$tool; \
		install -m 0644 .build/completions/_$$tool $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$tool; \
		install -m 0644 .build/completions/$$tool.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$tool.fish; \
	done

clean:
	rm -rf .build
