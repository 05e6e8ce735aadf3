# unit tests of vnmonctl's HTML report: tools/svg.c (escaping, scales,
# chart geometry) and tools/report-html.c (a whole document) on synthetic
# data; no Redis.
TESTS += tests/unit/test-report
check_PROGRAMS += tests/unit/test-report

tests_unit_test_report_SOURCES = tests/unit/test-report.c \
	tools/svg.c tools/svg.h tools/report-html.c tools/report-html.h
tests_unit_test_report_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_report_LDADD = lib/libvnmon-core.la $(CMOCKA_LIBS) -lm
