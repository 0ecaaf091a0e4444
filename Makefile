# HookSentry — the two commands of the README:
#   make run    start the whole local stack (emulators, gateway, workers, sweeper)
#   make test   every test, with the emulators it needs started and stopped by the tests
# Everything they need is installed by them: Go modules, the pinned npm
# emulators (tools/emulators), the pinned local-kms (bin/) and, for the
# console's browser tests (test/console), Debian's chromium and the pinned
# playwright-core (tools/browser).

GO        ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
STATICCHECK_VERSION := v0.8.2
# An execution count, not a duration: Go 1.26's fuzz coordinator can fail a
# duration-bound run with "context deadline exceeded" at the deadline on a
# loaded machine (golang/go#75804, fixed in Go 1.27); a count has no deadline.
FUZZTIME  ?= 300000x
# fuzz targets: package:FuzzName
FUZZ_TARGETS ?= $(shell cat .ci/fuzz-targets 2>/dev/null)

.PHONY: run test lint fuzz build bench tools browser-deps clean synth-all

run: tools
	$(GO) run ./cmd/hooksentry run

tools:
	$(GO) run ./cmd/hooksentry-tools

# The browser tests drive Debian's chromium (npm's browser downloads do not
# work here) with the playwright-core pinned in tools/browser. Installs
# chromium with apt-get when it is missing and we are root (CI); otherwise
# says what to install. Quick and idempotent once installed.
CHROMIUM ?= /usr/bin/chromium
browser-deps:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing chromium (apt-get)"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || exit 1; \
		else \
			echo "browser tests need $(CHROMIUM): install Debian's chromium (sudo apt-get install chromium)"; exit 1; \
		fi; \
	fi
	$(GO) run ./cmd/hooksentry-tools -browser

# Lint first (fast), then every Go test of the module (integration tests start
# their own emulators), then the fuzz targets briefly, then the CDK module.
test: tools browser-deps lint
	$(GO) test -count=1 -timeout 30m ./...
	$(MAKE) fuzz
	$(MAKE) infra-lint infra-test
	$(MAKE) synth-all
	$(MAKE) build

# `make synth` for every environment must write its template.
synth-all:
	@for e in dev staging prod; do \
		rm -f infra/cdk.out/HookSentry-$$e.template.json; \
		$(MAKE) -s synth ENV=$$e >/dev/null || exit 1; \
		test -s infra/cdk.out/HookSentry-$$e.template.json || { echo "synth ENV=$$e wrote no template"; exit 1; }; \
		echo "synth ENV=$$e: infra/cdk.out/HookSentry-$$e.template.json"; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done

# Lambda bundles: linux/arm64, static, stripped (see template.yaml CodeUri).
build:
	@for f in $(FUNCTIONS); do \
		echo "build/$$f/bootstrap"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags "-s -w" -tags lambda.norpc \
			-o build/$$f/bootstrap ./functions/$$f || exit 1; \
	done

bench: tools
	$(GO) test -count=1 -run='^$$' -bench=. -benchtime=1x -timeout 30m ./bench/...

clean:
	rm -rf build bin .hooksentry

include mk/infra.mk
