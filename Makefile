# HookSentry — the two commands of the README:
#   make run    start the whole local stack (emulators, gateway, workers, sweeper)
#   make test   every test, with the emulators it needs started and stopped by the tests
# Everything they need is installed by them: Go modules, the pinned npm
# emulators (tools/emulators) and the pinned local-kms (bin/).

GO        ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
STATICCHECK_VERSION := v0.8.2
# An execution count, not a duration: Go 1.26's fuzz coordinator can fail a
# duration-bound run with "context deadline exceeded" at the deadline on a
# loaded machine (golang/go#75804, fixed in Go 1.27); a count has no deadline.
FUZZTIME  ?= 300000x
# fuzz targets: package:FuzzName
FUZZ_TARGETS ?= $(shell cat .ci/fuzz-targets 2>/dev/null)

.PHONY: run test lint fuzz build bench tools clean synth-all

run: tools
	$(GO) run ./cmd/hooksentry run

tools:
	$(GO) run ./cmd/hooksentry-tools

# Lint first (fast), then every Go test of the module (integration tests start
# their own emulators), then the fuzz targets briefly, then the CDK module.
test: tools lint
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
