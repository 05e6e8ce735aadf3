# Unit tests of the analyzer's routing of incidents to sinks
# (analyzer/route.c) and of the delivery spool (analyzer/spool.c), the
# latter on a temporary directory with a fake sink.
TESTS += tests/unit/test-route tests/unit/test-spool
check_PROGRAMS += tests/unit/test-route tests/unit/test-spool

tests_unit_test_route_SOURCES = \
	tests/unit/test-route.c \
	analyzer/route.c analyzer/route.h
tests_unit_test_route_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_route_LDADD = lib/libvnmon-core.la $(CMOCKA_LIBS)

tests_unit_test_spool_SOURCES = \
	tests/unit/test-spool.c \
	analyzer/spool.c analyzer/spool.h \
	analyzer/alert-record.c analyzer/alert-record.h
tests_unit_test_spool_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_test_spool_LDADD = lib/libvnmon-core.la $(CMOCKA_LIBS) \
	$(JANSSON_LIBS)
