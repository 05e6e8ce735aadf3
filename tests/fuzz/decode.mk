# Fuzz target: the packet decoder (ovs-ext/decode.c), one Ethernet frame per
# input; it also runs decode_format() on every result.  Seeded with the
# frames of every capture in $(FUZZ_SHARED)/pcaps when that directory
# exists (at most FUZZ_DECODE_MAX_SEEDS distinct frames, by
# tests/fuzz/pcap-to-corpus.py), else it starts from an empty corpus.
FUZZ_TARGETS += tests/fuzz/fuzz-decode
FUZZ_SEEDS += tests/fuzz/corpus/fuzz-decode.stamp
FUZZ_DECODE_MAX_SEEDS = 20000
EXTRA_DIST += tests/fuzz/fuzz-decode.c tests/fuzz/pcap-to-corpus.py

tests/fuzz/fuzz-decode: $(top_srcdir)/tests/fuzz/fuzz-decode.c \
		$(top_srcdir)/ovs-ext/decode.c $(top_srcdir)/ovs-ext/decode.h \
		config.h
	$(AM_V_CCLD)$(MKDIR_P) tests/fuzz && \
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ \
	    $(top_srcdir)/tests/fuzz/fuzz-decode.c \
	    $(top_srcdir)/ovs-ext/decode.c

tests/fuzz/corpus/fuzz-decode.stamp: $(top_srcdir)/tests/fuzz/pcap-to-corpus.py
	$(AM_V_GEN)$(MKDIR_P) tests/fuzz/corpus/fuzz-decode && \
	if test -d $(FUZZ_SHARED)/pcaps; then \
	    python3 $(top_srcdir)/tests/fuzz/pcap-to-corpus.py \
	        --max $(FUZZ_DECODE_MAX_SEEDS) $(FUZZ_SHARED)/pcaps \
	        tests/fuzz/corpus/fuzz-decode || exit 1; \
	fi && touch $@

clean-local: clean-fuzz-decode
clean-fuzz-decode:
	rm -rf tests/fuzz/corpus/fuzz-decode tests/fuzz/corpus/fuzz-decode.stamp \
	    tests/fuzz/fuzz-decode.log
.PHONY: clean-fuzz-decode
