# Benchmarks (not tests): `make bench`.  They need ../shared/pcaps beside
# the source tree (or BENCH_PCAPS=DIR).
BENCH_PCAPS = $(abs_top_srcdir)/../shared/pcaps
EXTRA_DIST += tests/bench/ndpi-compare.py

bench: all
	@test -d "$(BENCH_PCAPS)" || { echo "bench: no captures in $(BENCH_PCAPS) (set BENCH_PCAPS=DIR)"; exit 1; }
	/usr/bin/python3 $(top_srcdir)/tests/bench/ndpi-compare.py \
	    --agent $(abs_top_builddir)/collector/vnmon-agent \
	    --pcaps $(BENCH_PCAPS) --out $(abs_top_builddir)/tests/bench
.PHONY: bench
