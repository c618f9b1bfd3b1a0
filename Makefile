# webchat — build and test entry points. `make test` is the one test command (CI runs it).

GO            ?= go
STATICCHECK   ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME      ?= 10s
# Folders holding a package-lock.json for the interop tests (real third-party peers from npm).
INTEROP_DIRS  := $(patsubst %/package-lock.json,%,$(wildcard interop/*/package-lock.json))

.PHONY: all test vet fmt-check gotest interop-deps bench lint fuzz build demo clean

all: test

## test: vet, gofmt check, npm deps for interop, then every Go test with -race.
test: vet fmt-check interop-deps gotest

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './interop/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# Interop tests skip themselves when node is missing, unless WEBCHAT_REQUIRE_INTEROP=1,
# which `make test` sets so CI can never pass by silently skipping them.
gotest:
	WEBCHAT_REQUIRE_INTEROP=$${WEBCHAT_REQUIRE_INTEROP:-1} $(GO) test -race -count=1 -timeout 30m ./...

interop-deps:
	@for d in $(INTEROP_DIRS); do \
		echo "npm ci in $$d"; \
		(cd $$d && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
	done

## bench: every benchmark, with allocation counts.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

## lint: vet plus staticcheck at a pinned version.
lint: vet
	$(GO) run $(STATICCHECK) ./...

## fuzz: a short pass ($(FUZZTIME)) of every fuzz target.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
		for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
			echo "fuzz $$pkg $$t"; \
			$(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$pkg; \
		done; \
	done

build:
	$(GO) build ./...

clean:
	$(GO) clean -testcache
