# Unit tests of the collector's conntrack (collector/conntrack.c and
# collector/ovs-conntrack.c): the OVS dump-conntrack parser, state
# accounting, attribution to VMs and tenants, the table (deduplication,
# new connections, syncs, the cap) and the per-VM event lists.  No root,
# no netlink: the table is driven by calls.
TESTS += tests/unit/test-conntrack
check_PROGRAMS += tests/unit/test-conntrack

tests_unit_test_conntrack_SOURCES = tests/unit/test-conntrack.c \
	collector/conntrack.c collector/conntrack.h \
	collector/ovs-conntrack.c collector/ovs-conntrack.h
tests_unit_test_conntrack_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(JANSSON_CFLAGS) $(EVENT_CFLAGS) $(NFCT_CFLAGS)
tests_unit_test_conntrack_LDADD = ovs-ext/libovs-ext.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS) $(JANSSON_LIBS) $(EVENT_LIBS) \
	$(NFCT_LIBS)
