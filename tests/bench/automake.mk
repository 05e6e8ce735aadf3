# Benchmarks (not tests): `make bench`.  They need ../shared/pcaps beside
# the source tree (or BENCH_PCAPS=DIR).
BENCH_PCAPS = $(abs_top_srcdir)/../shared/pcaps
EXTRA_DIST += tests/bench/ndpi-compare.py tests/bench/bw-redis.sh \
	tests/bench/analyzer.sh

bench: all
	@test -d "$(BENCH_PCAPS)" || { echo "bench: no captures in $(BENCH_PCAPS) (set BENCH_PCAPS=DIR)"; exit 1; }
	/usr/bin/python3 $(top_srcdir)/tests/bench/ndpi-compare.py \
	    --agent $(abs_top_builddir)/collector/vnmon-agent \
	    --pcaps $(BENCH_PCAPS) --out $(abs_top_builddir)/tests/bench
	@if [ "$$(id -u)" = 0 ]; then \
	    VNM_BUILDDIR=$(abs_top_builddir) \
	    VNM_PLUGIN_DIR=$(abs_top_builddir)/plugins \
	    $(SHELL) $(top_srcdir)/tests/bench/bw-redis.sh && \
	    VNM_BUILDDIR=$(abs_top_builddir) \
	    VNM_PLUGIN_DIR=$(abs_top_builddir)/plugins \
	    BENCH_PCAPS=$(BENCH_PCAPS) \
	    PATH=$(abs_top_builddir)/analyzer:$$PATH \
	    $(SHELL) $(top_srcdir)/tests/bench/analyzer.sh; \
	else \
	    echo "bench: bw-redis.sh and analyzer.sh need root (a lab); skipped"; \
	fi
.PHONY: bench
