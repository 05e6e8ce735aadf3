# unit tests of ovs-ext component: flow (added by its author)
# test-classify drives nDPI 4.2 through ovs-ext/classify-ndpi.c on
# hand-built TLS, DNS and HTTP packets; test-flow-table drives the flow table
# on a fake clock (its SYN flood test pushes a million frames).
TESTS += tests/unit/test-classify tests/unit/test-flow-table
check_PROGRAMS += tests/unit/test-classify tests/unit/test-flow-table

tests_unit_test_classify_SOURCES = tests/unit/test-classify.c
tests_unit_test_classify_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_classify_LDADD = ovs-ext/libovs-ext.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS)

tests_unit_test_flow_table_SOURCES = tests/unit/test-flow-table.c
tests_unit_test_flow_table_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_flow_table_LDADD = ovs-ext/libovs-ext.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS)
