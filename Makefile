# Sightline: `make run` starts the server on the embedded default,
# `make test` runs every test. Only the Go toolchain is needed.

GO      ?= go
BIN     := bin/sightline
FUZZTIME ?= 15s

.PHONY: all build run test vet chromium agent-sdk bench bench-memory pgo fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/sightline

run: build
	./$(BIN) serve

# The demo, for a first look at web-session files within minutes: a data
# directory of its own (demo-data), visits that close after a minute
# without events, and a clock set about three minutes before the end of an
# hour, so that the hour of the visits made now is complete, and its files
# written, three minutes from now. The README's "A first look" says what to
# run next. Not for real use: the clock runs ahead of (or behind) the
# wall clock.
demo: build
	./$(BIN) serve --data demo-data --visit-timeout 1m --clock-offset $$(( (57 - $$(date -u +%-M)) * 60 - $$(date -u +%-S) ))s

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test: vet chromium agent-sdk
	$(GO) test -race -count=1 -timeout 30m ./...

# Debian's Chromium for the browser tests of web/tag (installed once).
chromium:
	./scripts/chromium.sh

# Node.js and LivePerson's node-agent-sdk 1.2.0 in .cache/agent-sdk, for
# the tests of internal/messaging/lpagent that run bots written with it
# (installed once).
agent-sdk:
	./scripts/agent-sdk.sh

# The ingest benchmark of the closing notes: durable ingest against a no-op ceiling.
bench: build
	./$(BIN) bench ingest
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

# A server's memory under the two attacks of issue 14 (one visitor's endless
# visit, 3,000 clients) and its restart after each. OLD=PATH runs that binary
# too, alternating with this one, for a before and after in one run.
bench-memory: build
	./$(BIN) bench memory --attack visitor $(if $(OLD),--binary $(OLD) --binary $(BIN))
	./$(BIN) bench memory --attack clients $(if $(OLD),--binary $(OLD) --binary $(BIN))

# Refreshes cmd/sightline/default.pgo, the CPU profile that go build uses
# for profile-guided optimization: Sightline's side of the ingest benchmark.
# Refresh it after a large change of the hot path.
pgo: build
	./$(BIN) bench ingest --rounds 1 --duration 10s --cpuprofile cmd/sightline/default.pgo

# Runs every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
