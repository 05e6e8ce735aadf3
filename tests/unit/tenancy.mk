# The analyzer's network view and policy (analyzer/tenancy.c).
TESTS += tests/unit/test-tenancy
check_PROGRAMS += tests/unit/test-tenancy
tests_unit_test_tenancy_SOURCES = tests/unit/test-tenancy.c
tests_unit_test_tenancy_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_tenancy_LDADD = lib/libvnmon-core.la $(CMOCKA_LIBS) \
	$(JANSSON_LIBS)
