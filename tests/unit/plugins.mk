# Unit tests of the built-in plugins.  Each test compiles its plugin's .c
# and drives it through 'vnm_plugin' on the fake host
# (tests/unit/fake-host.c), without the loader.
TESTS += \
	tests/unit/test-sink-jsonl \
	tests/unit/test-detect-scan
check_PROGRAMS += \
	tests/unit/test-sink-jsonl \
	tests/unit/test-detect-scan

# Reads the sink's lines back with jansson.
tests_unit_test_sink_jsonl_SOURCES = \
	tests/unit/test-sink-jsonl.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	alerting/sink-jsonl.c
tests_unit_test_sink_jsonl_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_test_sink_jsonl_LDADD = alerting/libsink-util.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS) $(JANSSON_LIBS)

tests_unit_test_detect_scan_SOURCES = \
	tests/unit/test-detect-scan.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-scan.c
tests_unit_test_detect_scan_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_detect_scan_LDADD = lib/libvnmon-core.la $(CMOCKA_LIBS)
