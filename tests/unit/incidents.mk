# Unit tests of the incident store (analyzer/incident.c) and the alert
# record (analyzer/alert-record.c), against a real redis-server that the
# test starts on a unix socket in a temporary directory.
TESTS += tests/unit/test-incident-store
check_PROGRAMS += tests/unit/test-incident-store
tests_unit_test_incident_store_SOURCES = \
	tests/unit/test-incident-store.c \
	analyzer/incident.c analyzer/incident.h \
	analyzer/alert-record.c analyzer/alert-record.h
tests_unit_test_incident_store_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_test_incident_store_LDADD = lib/libvnmon-core.la $(CMOCKA_LIBS) \
	$(JANSSON_LIBS)
