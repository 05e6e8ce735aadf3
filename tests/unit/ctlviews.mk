# Unit tests of vnmonctl's bandwidth series reader (tools/ctl-series.c):
# statistics over bins, quantiles with implied zeros, resolution choice,
# gaps in JSON, the merge of live views.  Compiles the reader itself.
TESTS += tests/unit/test-ctl-series
check_PROGRAMS += tests/unit/test-ctl-series
tests_unit_test_ctl_series_SOURCES = tests/unit/test-ctl-series.c \
	tools/ctl-series.c tools/ctl-series.h
tests_unit_test_ctl_series_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_test_ctl_series_LDADD = lib/libvnmon-core.la $(CMOCKA_LIBS) \
	$(JANSSON_LIBS) -lm
