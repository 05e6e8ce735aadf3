# Unit tests of the quarantine: drop rules and their reconciliation
# (ovs-ext/quarantine.c), the analyzer's choice (analyzer/auto-quarantine.c).
TESTS += tests/unit/test-quarantine
check_PROGRAMS += tests/unit/test-quarantine
tests_unit_test_quarantine_SOURCES = tests/unit/test-quarantine.c \
	analyzer/auto-quarantine.c analyzer/auto-quarantine.h
tests_unit_test_quarantine_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_test_quarantine_LDADD = ovs-ext/libovs-ext.la \
	analyzer/libdetect-util.la lib/libvnmon-core.la $(CMOCKA_LIBS) \
	$(JANSSON_LIBS)
