# Builds and runs the libFuzzer targets (run by the top-level Makefile's `fuzz` target).
# No SwiftPM: swiftc compiles InfCore and InfModels (and, for the result-file target,
# InfTrain, InfTechniques and InfHarness) as modules with fuzzer coverage and
# AddressSanitizer, then links each Fuzz/*Fuzz.swift against them; CKernels' C is plain clang.
# Everything lands in .build-fuzz/; make rebuilds only what changed.

FUZZ_DIR     := .build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := safetensors config tokenizer results
SWIFTC       ?= swiftc
CLANG        ?= clang

fuzz_blas_cflags := $(shell pkg-config --cflags openblas)
fuzz_blas_libs   := $(shell pkg-config --libs openblas)
# -O keeps Swift's overflow and bounds checks (only -Ounchecked drops them) and fuzzes faster;
# -enable-testing lets a target check internal invariants through @testable import.
fuzz_swiftflags  := -swift-version 5 -O -g -parse-as-library -enable-testing -sanitize=fuzzer,address \
                    -I $(FUZZ_DIR)/modules -I Sources/CBLAS -I $(FUZZ_DIR)/modules/CKernels \
                    $(addprefix -Xcc ,$(fuzz_blas_cflags))

fuzz_core_sources   := $(shell find Sources/InfCore -name '*.swift' | sort)
fuzz_models_sources := $(shell find Sources/InfModels -name '*.swift' | sort)
fuzz_train_sources  := $(shell find Sources/InfTrain -name '*.swift' | sort)
fuzz_tech_sources   := $(shell find Sources/InfTechniques -name '*.swift' | sort)
fuzz_harness_sources := $(shell find Sources/InfHarness -name '*.swift' | sort)
fuzz_c_objects      := $(patsubst Sources/CKernels/%.c,$(FUZZ_DIR)/obj/%.o,$(wildcard Sources/CKernels/*.c))
fuzz_libs           := $(FUZZ_DIR)/obj/InfModels.o $(FUZZ_DIR)/obj/InfCore.o $(fuzz_c_objects)
fuzz_harness_libs   := $(FUZZ_DIR)/obj/InfHarness.o $(FUZZ_DIR)/obj/InfTechniques.o $(FUZZ_DIR)/obj/InfTrain.o $(fuzz_libs)
fuzz_binaries       := $(addprefix $(FUZZ_DIR)/fuzz-,$(FUZZ_TARGETS))

.PHONY: fuzz-build fuzz-run

fuzz-build: $(fuzz_binaries)

$(FUZZ_DIR)/obj/%.o: Sources/CKernels/%.c $(wildcard Sources/CKernels/include/*.h Sources/CKernels/*.h)
	@mkdir -p $(@D)
	$(CLANG) -O2 -g -fPIC -I Sources/CKernels/include -c $< -o $@

# The clang module SwiftPM would generate for CKernels.
$(FUZZ_DIR)/modules/CKernels/module.modulemap:
	@mkdir -p $(@D)
	printf 'module CKernels {\n  umbrella header "%s"\n  export *\n}\n' "$(CURDIR)/Sources/CKernels/include/CKernels.h" > $@

$(FUZZ_DIR)/obj/InfCore.o: $(fuzz_core_sources) $(FUZZ_DIR)/modules/CKernels/module.modulemap Fuzz/fuzz.mk
	@mkdir -p $(@D) $(FUZZ_DIR)/modules
	$(SWIFTC) $(fuzz_swiftflags) -module-name InfCore -wmo -c $(fuzz_core_sources) -o $@ \
	  -emit-module -emit-module-path $(FUZZ_DIR)/modules/InfCore.swiftmodule

$(FUZZ_DIR)/obj/InfModels.o: $(fuzz_models_sources) $(FUZZ_DIR)/obj/InfCore.o
	$(SWIFTC) $(fuzz_swiftflags) -module-name InfModels -wmo -c $(fuzz_models_sources) -o $@ \
	  -emit-module -emit-module-path $(FUZZ_DIR)/modules/InfModels.swiftmodule

# The libraries above InfModels, for the result-file target (show, compare, reproduce, chart).
$(FUZZ_DIR)/obj/InfTrain.o: $(fuzz_train_sources) $(FUZZ_DIR)/obj/InfModels.o
	$(SWIFTC) $(fuzz_swiftflags) -module-name InfTrain -wmo -c $(fuzz_train_sources) -o $@ \
	  -emit-module -emit-module-path $(FUZZ_DIR)/modules/InfTrain.swiftmodule

$(FUZZ_DIR)/obj/InfTechniques.o: $(fuzz_tech_sources) $(FUZZ_DIR)/obj/InfTrain.o
	$(SWIFTC) $(fuzz_swiftflags) -module-name InfTechniques -wmo -c $(fuzz_tech_sources) -o $@ \
	  -emit-module -emit-module-path $(FUZZ_DIR)/modules/InfTechniques.swiftmodule

$(FUZZ_DIR)/obj/InfHarness.o: $(fuzz_harness_sources) $(FUZZ_DIR)/obj/InfTechniques.o
	$(SWIFTC) $(fuzz_swiftflags) -module-name InfHarness -wmo -c $(fuzz_harness_sources) -o $@ \
	  -emit-module -emit-module-path $(FUZZ_DIR)/modules/InfHarness.swiftmodule

$(FUZZ_DIR)/fuzz-safetensors: Fuzz/SafetensorsFuzz.swift $(fuzz_libs)
$(FUZZ_DIR)/fuzz-config: Fuzz/ConfigFuzz.swift $(fuzz_libs)
$(FUZZ_DIR)/fuzz-tokenizer: Fuzz/TokenizerFuzz.swift $(fuzz_libs)
$(FUZZ_DIR)/fuzz-results: Fuzz/ResultsFuzz.swift $(fuzz_harness_libs)
$(FUZZ_DIR)/fuzz-safetensors $(FUZZ_DIR)/fuzz-config $(FUZZ_DIR)/fuzz-tokenizer:
	$(SWIFTC) $(fuzz_swiftflags) -use-ld=lld -module-name Fuzz $< $(fuzz_libs) $(fuzz_blas_libs) -o $@
$(FUZZ_DIR)/fuzz-results:
	$(SWIFTC) $(fuzz_swiftflags) -use-ld=lld -module-name Fuzz $< $(fuzz_harness_libs) $(fuzz_blas_libs) -o $@

# Each target fuzzes a scratch copy of its seeds (the committed corpus stays as it is) for
# FUZZ_SECONDS; crash inputs go to .build-fuzz/crashes/. Non-zero exit if any target failed.
# SWIFT_BACKTRACE=enable=no: Swift's own crash backtracer would otherwise take the signal
# (and can sit there) before libFuzzer saves the crashing input.
fuzz-run: fuzz-build
	@status=0; for t in $(FUZZ_TARGETS); do \
	  rm -rf $(FUZZ_DIR)/corpus/$$t; mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crashes; \
	  cp Fuzz/corpus/$$t/* $(FUZZ_DIR)/corpus/$$t/; \
	  SWIFT_BACKTRACE=enable=no $(FUZZ_DIR)/fuzz-$$t $(FUZZ_DIR)/corpus/$$t -dict=Fuzz/$$t.dict -max_total_time=$(FUZZ_SECONDS) \
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
