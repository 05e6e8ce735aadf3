# Fuzz target: ovsdb.  Arbitrary bytes go through the OVSDB stream reader,
# the JSON-RPC dispatch, the replica's update application and the inventory
# rebuild and snapshot (tests/fuzz/fuzz-ovsdb.c).  Seeded with the small
# valid message streams of tests/fuzz/seeds-ovsdb/.
FUZZ_TARGETS += tests/fuzz/fuzz-ovsdb
FUZZ_SEEDS += tests/fuzz/corpus/fuzz-ovsdb.stamp

FUZZ_OVSDB_SRCS = \
	$(top_srcdir)/tests/fuzz/fuzz-ovsdb.c \
	$(top_srcdir)/ovs-ext/ovsdb.c \
	$(top_srcdir)/ovs-ext/inventory.c \
	$(top_srcdir)/lib/bw-series.c \
	$(top_srcdir)/lib/log.c \
	$(top_srcdir)/lib/util.c
FUZZ_OVSDB_SEEDS = \
	tests/fuzz/seeds-ovsdb/initial.json \
	tests/fuzz/seeds-ovsdb/updates.json \
	tests/fuzz/seeds-ovsdb/tunnel-mirror.json \
	tests/fuzz/seeds-ovsdb/resync.json
EXTRA_DIST += tests/fuzz/fuzz-ovsdb.c $(FUZZ_OVSDB_SEEDS)

tests/fuzz/fuzz-ovsdb: $(FUZZ_OVSDB_SRCS) \
		$(top_srcdir)/ovs-ext/ovsdb.h $(top_srcdir)/ovs-ext/inventory.h \
		config.h
	$(AM_V_CCLD)$(MKDIR_P) tests/fuzz && \
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(JANSSON_CFLAGS) $(EVENT_CFLAGS) \
	    -o $@ $(FUZZ_OVSDB_SRCS) $(JANSSON_LIBS) $(EVENT_LIBS) -lpthread -lm

tests/fuzz/corpus/fuzz-ovsdb.stamp: \
		$(addprefix $(top_srcdir)/,$(FUZZ_OVSDB_SEEDS))
	$(AM_V_GEN)$(MKDIR_P) tests/fuzz/corpus/fuzz-ovsdb && \
	for f in $(FUZZ_OVSDB_SEEDS); do \
	    cp $(top_srcdir)/$$f \
	        tests/fuzz/corpus/fuzz-ovsdb/seed-$$(basename $$f) || exit 1; \
	done && touch $@

clean-local: clean-fuzz-ovsdb
clean-fuzz-ovsdb:
	rm -rf tests/fuzz/corpus/fuzz-ovsdb tests/fuzz/corpus/fuzz-ovsdb.stamp \
	    tests/fuzz/fuzz-ovsdb.log
.PHONY: clean-fuzz-ovsdb
