# t/fuzz/fuzz.mk — build and run dnswarden's libFuzzer targets (GNU make).
#
#   make fuzz                          # from a configured tree (Makefile.am)
#   make -f t/fuzz/fuzz.mk run         # from the top of any clone, no configure
#
# Variables: FUZZ_SECONDS (per target, default 60), FUZZ_TARGETS (default all:
# addr conf control feature state scan_lines dga regdomain rpzfile_domains), FUZZ_CC (default clang: libFuzzer needs
# clang, whatever CC the tree was configured with), FUZZ_FLAGS (extra
# libFuzzer options). Needs the Debian packages clang and libclang-rt-14-dev
# (tools/install-deps installs them).
#
# The engine's sources (module/*.c but the unbound_* adapter) are compiled
# once with -fsanitize=fuzzer-no-link,address,undefined into
# t/fuzz/build/libdwengine-fuzz.a; each t/fuzz/fuzz_NAME.c is linked against
# it as t/fuzz/build/fuzz_NAME. A run reads the committed seeds in
# t/fuzz/corpus/NAME (read-only) and keeps what it finds in
# t/fuzz/build/corpus/NAME, with the libFuzzer dictionary t/fuzz/NAME.dict
# (tokens of the format) when there is one; a crash, leak, UB report, broken invariant or a
# 10 s hang stops that target, leaves t/fuzz/build/crash-NAME-* and makes the
# run fail. Add such an input to t/fuzz/corpus/NAME once it is fixed.

srcdir ?= .
builddir ?= .
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= addr conf control feature state scan_lines dga regdomain rpzfile_domains
FUZZ_FLAGS ?=

out := $(builddir)/t/fuzz/build
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -g -O1 -D_GNU_SOURCE -Wall -Wextra -Werror -I$(srcdir)/module/engine -I$(srcdir)/t/fuzz \
	$(FUZZ_SAN) $(shell pkg-config --cflags yaml-0.1 libmaxminddb sqlite3 libpsl)
FUZZ_LIBS := $(shell pkg-config --libs yaml-0.1 libmaxminddb sqlite3 libpsl) -lm -pthread

ENGINE_SRC := $(filter-out $(srcdir)/module/engine/unbound_% $(srcdir)/module/engine/dga_table.c $(srcdir)/module/engine/geoip_none.c $(srcdir)/module/engine/%.inc.c,$(wildcard $(srcdir)/module/engine/*.c))
ENGINE_OBJ := $(patsubst $(srcdir)/module/engine/%.c,$(out)/engine/%.o,$(ENGINE_SRC)) $(out)/engine/dga_table.o
DGA_WORDLIST ?= /usr/share/dict/american-english
FUZZERS := $(patsubst %,$(out)/fuzz_%,$(FUZZ_TARGETS))

.PHONY: build run check-cc
.SECONDARY:

build: check-cc $(FUZZERS)

# Fail early, with what to install, when FUZZ_CC cannot link a fuzzer.
check-cc:
	@printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' | \
	$(FUZZ_CC) -x c -fsanitize=fuzzer,address,undefined - -o /dev/null 2>/dev/null || { \
		echo "fuzz: '$(FUZZ_CC)' cannot link a libFuzzer target: install the Debian packages clang and libclang-rt-14-dev (tools/install-deps) or set FUZZ_CC" >&2; \
		exit 1; }

$(out)/engine/%.o: $(srcdir)/module/engine/%.c
	@mkdir -p $(@D)
	@echo "  FUZZCC   $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

# The DGA model's generated table (Makefile.am makes the same), here in $(out).
$(out)/dga_table.c: $(srcdir)/tools/dga-gen
	@mkdir -p $(@D)
	@perl $(srcdir)/tools/dga-gen $(DGA_WORDLIST) > $@.tmp && mv $@.tmp $@

$(out)/engine/dga_table.o: $(out)/dga_table.c
	@mkdir -p $(@D)
	@echo "  FUZZCC   $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(out)/libdwengine-fuzz.a: $(ENGINE_OBJ)
	@rm -f $@
	@ar rcs $@ $^

# dnswarden-scan's line parsers (tools/scan/lines.c) link into their target.
$(out)/fuzz_scan_lines: $(srcdir)/t/fuzz/fuzz_scan_lines.c $(srcdir)/tools/scan/lines.c \
		$(srcdir)/tools/scan/records.h $(srcdir)/t/fuzz/fuzz_util.h $(out)/libdwengine-fuzz.a
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -I$(srcdir)/tools/scan -fsanitize=fuzzer $< \
		$(srcdir)/tools/scan/lines.c $(out)/libdwengine-fuzz.a $(FUZZ_LIBS) -o $@

$(out)/fuzz_%: $(srcdir)/t/fuzz/fuzz_%.c $(srcdir)/t/fuzz/fuzz_util.h $(out)/libdwengine-fuzz.a
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP $< $(out)/libdwengine-fuzz.a \
		$(FUZZ_LIBS) -o $@

# Run each target for FUZZ_SECONDS; print its executions; fail if any failed.
run: build
	@failed=; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(out)/corpus/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		if $(out)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=8192 \
			-print_final_stats=1 -artifact_prefix=$(out)/crash-$$t- \
			$$(test -f $(srcdir)/t/fuzz/$$t.dict && echo -dict=$(srcdir)/t/fuzz/$$t.dict) $(FUZZ_FLAGS) \
			$(out)/corpus/$$t $(srcdir)/t/fuzz/corpus/$$t >$(out)/$$t.log 2>&1; then \
			echo "fuzz: $$t: $$(sed -n 's/^stat::number_of_executed_units: *//p' $(out)/$$t.log) execs, $$(sed -n 's/^stat::new_units_added: *//p' $(out)/$$t.log) new inputs, no finding"; \
		else \
			tail -n 60 $(out)/$$t.log; \
			echo "fuzz: $$t FAILED (log $(out)/$$t.log, input $(out)/crash-$$t-*)"; \
			failed="$$failed $$t"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi

-include $(ENGINE_OBJ:.o=.d) $(FUZZERS:=.d)
