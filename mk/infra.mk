# HookSentry infrastructure: the CDK app in infra/ and the SAM template.yaml.
# Included from the root Makefile (`include mk/infra.mk`); paths are relative to
# the repository root. See docs/DEPLOY.md.
#
#   make synth ENV=dev|staging|prod  synthesize one environment (no AWS access, no CLI)
#   make deploy ENV=dev              make build, then deploy HookSentry-<env> with the pinned CDK CLI
#   make infra-diff ENV=dev          cdk diff against the deployed stack
#   make infra-bootstrap ENV=dev     cdk bootstrap the account/region of your credentials (once)
#   make infra-test                  CDK assertions + SAM/CDK parity tests (no CLI, no AWS)
#   make infra-lint                  go vet + gofmt in infra/, cfn-lint on template.yaml if installed
#   make infra-deps                  npm ci of the pinned CDK CLI (infra/_cdkcli), when missing or stale

ENV ?= dev
INFRA_ENVS := dev staging prod
INFRA_DIR := infra
INFRA_CLI_DIR := $(INFRA_DIR)/_cdkcli
INFRA_OUT := $(INFRA_DIR)/cdk.out

# jsii runs on Node; Node 20 is past its end of life and jsii says so on every
# run. infra/internal/jsiienv sets the same variables in-process; they are set
# here too for anything else that starts the jsii runtime.
INFRA_ENV := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1

# The pinned CLI (infra/_cdkcli/package.json), run from infra/ (where cdk.json is).
CDK := npx --prefix _cdkcli --no-install cdk
# Extra flags for cdk deploy/diff, e.g. CDK_FLAGS='--require-approval never -c jwtIssuer=https://... -c jwtAudience=abc'
CDK_FLAGS ?=

.PHONY: synth deploy infra-diff infra-bootstrap infra-test infra-lint infra-deps infra-check-env

infra-check-env:
	@case " $(INFRA_ENVS) " in *" $(ENV) "*) ;; *) echo "ENV=$(ENV): want one of: $(INFRA_ENVS)" >&2; exit 2;; esac

# Synthesis runs the Go app directly, as the CDK CLI would (CDK_OUTDIR and
# CDK_CONTEXT_JSON are the CLI's protocol). Functions not built yet get
# placeholder assets (the app warns): the template is for reading, not deploying.
synth: infra-check-env
	@cd $(INFRA_DIR) && rm -rf cdk.out/$(ENV) && \
		$(INFRA_ENV) CDK_OUTDIR=cdk.out/$(ENV) CDK_CONTEXT_JSON='{"env":"$(ENV)","placeholderAssets":"true"}' go run .
	@cp $(INFRA_OUT)/$(ENV)/HookSentry-$(ENV).template.json $(INFRA_OUT)/HookSentry-$(ENV).template.json
	@echo "$(INFRA_OUT)/HookSentry-$(ENV).template.json"

# Deploy needs AWS credentials for the target account. `build` is the root
# Makefile's target that writes build/<function>/bootstrap; the app refuses to
# synthesize for deployment without it.
deploy: infra-check-env build infra-deps
	cd $(INFRA_DIR) && $(INFRA_ENV) $(CDK) deploy HookSentry-$(ENV) -c env=$(ENV) --output cdk.out/deploy-$(ENV) $(CDK_FLAGS)

infra-diff: infra-check-env build infra-deps
	cd $(INFRA_DIR) && $(INFRA_ENV) $(CDK) diff HookSentry-$(ENV) -c env=$(ENV) --output cdk.out/deploy-$(ENV) $(CDK_FLAGS)

infra-bootstrap: infra-check-env infra-deps
	cd $(INFRA_DIR) && $(INFRA_ENV) $(CDK) bootstrap -c env=$(ENV) -c placeholderAssets=true --output cdk.out/bootstrap-$(ENV)

# The tests synthesize in-process with fake builds; they need neither the CLI
# nor AWS. cfn-lint, when installed, also validates template.yaml and the
# three syntheses.
infra-test:
	cd $(INFRA_DIR) && $(INFRA_ENV) go test ./...

infra-lint:
	cd $(INFRA_DIR) && $(INFRA_ENV) go vet ./...
	@out="$$(cd $(INFRA_DIR) && find . -name '*.go' -not -path './_*' -not -path './cdk.out/*' -exec gofmt -l {} +)"; \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@if command -v cfn-lint >/dev/null 2>&1; then cfn-lint template.yaml; else echo "cfn-lint not installed: skipped"; fi

infra-deps: $(INFRA_CLI_DIR)/node_modules/.package-lock.json

$(INFRA_CLI_DIR)/node_modules/.package-lock.json: $(INFRA_CLI_DIR)/package.json $(INFRA_CLI_DIR)/package-lock.json
	cd $(INFRA_CLI_DIR) && npm ci --no-audit --no-fund
	@touch $@
