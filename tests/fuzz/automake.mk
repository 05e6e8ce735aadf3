# Fuzz targets: libFuzzer with ASan and UBSan, always built with clang
# (Debian's clang + libclang-rt-14-dev) whatever CC configure chose.  Each
# target's fragment adds itself to FUZZ_TARGETS and gives its build rule,
# compiling the sources it needs directly with $(FUZZ_CC) $(FUZZ_CFLAGS).
#
#   make fuzz                     runs each target for FUZZ_TIME seconds
#   make fuzz FUZZ_RUNS=10000000  ... or for that many executions instead
#
# Corpora live in tests/fuzz/corpus/NAME (build tree, not committed), seeded
# by each target's seed rule (from ../shared/pcaps when present).
FUZZ_CC = clang
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	-I$(top_srcdir)/include -I$(top_srcdir) -I$(top_builddir)
FUZZ_TARGETS =
FUZZ_SEEDS =
FUZZ_TIME = 60
FUZZ_RUNS = 0
FUZZ_SHARED = $(abs_top_srcdir)/../shared

include tests/fuzz/decode.mk
include tests/fuzz/ovsdb.mk

fuzz: $(FUZZ_TARGETS) $(FUZZ_SEEDS)
	@for t in $(FUZZ_TARGETS); do \
	    name=$$(basename $$t); \
	    corpus=tests/fuzz/corpus/$$name; \
	    $(MKDIR_P) $$corpus; \
	    echo "=== $$name: $$( [ $(FUZZ_RUNS) = 0 ] && echo "$(FUZZ_TIME) s" || echo "$(FUZZ_RUNS) runs")"; \
	    start=$$(date +%s); \
	    if [ $(FUZZ_RUNS) = 0 ]; then limit="-max_total_time=$(FUZZ_TIME)"; \
	    else limit="-runs=$(FUZZ_RUNS)"; fi; \
	    ./$$t $$limit \
	        -print_final_stats=1 $$corpus 2>tests/fuzz/$$name.log \
	        || { tail -n 60 tests/fuzz/$$name.log; exit 1; }; \
	    grep -E '^stat::number_of_executed_units' tests/fuzz/$$name.log; \
	    echo "$$name: done in $$(( $$(date +%s) - start )) s"; \
	done
.PHONY: fuzz
CLEANFILES += $(FUZZ_TARGETS)
