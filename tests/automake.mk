# Tests: cmocka unit tests (make check), plugin fixtures, system tests
# (make check-system, root).
#
# Unit tests: one cmocka binary per module, linked with libvnmon-core.
# test-fake-host compiles a plugin's .c directly and drives it through
# tests/unit/fake-host.c, as later plugin unit tests will.
TESTS += \
	tests/unit/test-conf \
	tests/unit/test-log \
	tests/unit/test-loader \
	tests/unit/test-fake-host
check_PROGRAMS += \
	tests/unit/test-conf \
	tests/unit/test-log \
	tests/unit/test-loader \
	tests/unit/test-fake-host

TESTS_UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
TESTS_UNIT_LDADD = lib/libvnmon-core.la $(CMOCKA_LIBS)

tests_unit_test_conf_SOURCES = tests/unit/test-conf.c
tests_unit_test_conf_CFLAGS = $(TESTS_UNIT_CFLAGS)
tests_unit_test_conf_LDADD = $(TESTS_UNIT_LDADD)

tests_unit_test_log_SOURCES = tests/unit/test-log.c
tests_unit_test_log_CFLAGS = $(TESTS_UNIT_CFLAGS)
tests_unit_test_log_LDADD = $(TESTS_UNIT_LDADD)

# test-loader dlopen()s the fixtures below from the build tree, where
# libtool leaves them (tests/plugins/.libs); $VNM_TEST_PLUGIN_DIR overrides.
tests_unit_test_loader_SOURCES = tests/unit/test-loader.c
tests_unit_test_loader_CPPFLAGS = $(AM_CPPFLAGS) \
	-DVNM_TEST_PLUGIN_DIR='"$(abs_top_builddir)/tests/plugins/.libs"'
tests_unit_test_loader_CFLAGS = $(TESTS_UNIT_CFLAGS)
tests_unit_test_loader_LDADD = $(TESTS_UNIT_LDADD)

tests_unit_test_fake_host_SOURCES = \
	tests/unit/test-fake-host.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	tests/plugins/detect-minimal.c
tests_unit_test_fake_host_CFLAGS = $(TESTS_UNIT_CFLAGS)
tests_unit_test_fake_host_LDADD = $(TESTS_UNIT_LDADD)

# Plugin fixtures: real .so files for test-loader, built by "make check"
# before the tests run, never installed.  -rpath makes libtool build a
# shared module rather than a convenience archive.  Named as the loader's
# default file naming expects ([detector "NAME"] -> detect-NAME.so).
check_LTLIBRARIES += \
	tests/plugins/detect-minimal.la \
	tests/plugins/sink-good.la \
	tests/plugins/enrich-static.la \
	tests/plugins/detect-major-mismatch.la \
	tests/plugins/detect-minor-newer.la \
	tests/plugins/detect-no-symbol.la \
	tests/plugins/detect-unknown-kind.la \
	tests/plugins/detect-init-fails.la \
	tests/plugins/detect-dup-name.la \
	tests/plugins/detect-bad-conf.la \
	tests/plugins/detect-small-size.la

TESTS_PLUGIN_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
TESTS_PLUGIN_LDFLAGS = $(AM_LDFLAGS) $(PLUGIN_LDFLAGS) -rpath /nowhere

tests_plugins_detect_minimal_la_SOURCES = tests/plugins/detect-minimal.c
tests_plugins_detect_minimal_la_CFLAGS = $(TESTS_PLUGIN_CFLAGS)
tests_plugins_detect_minimal_la_LDFLAGS = $(TESTS_PLUGIN_LDFLAGS)

tests_plugins_enrich_static_la_SOURCES = tests/plugins/enrich-static.c
tests_plugins_enrich_static_la_CFLAGS = $(TESTS_PLUGIN_CFLAGS)
tests_plugins_enrich_static_la_LDFLAGS = $(TESTS_PLUGIN_LDFLAGS)

tests_plugins_sink_good_la_SOURCES = tests/plugins/sink-good.c
tests_plugins_sink_good_la_CFLAGS = $(TESTS_PLUGIN_CFLAGS)
tests_plugins_sink_good_la_LDFLAGS = $(TESTS_PLUGIN_LDFLAGS)

tests_plugins_detect_major_mismatch_la_SOURCES = \
	tests/plugins/detect-major-mismatch.c
tests_plugins_detect_major_mismatch_la_CFLAGS = $(TESTS_PLUGIN_CFLAGS)
tests_plugins_detect_major_mismatch_la_LDFLAGS = $(TESTS_PLUGIN_LDFLAGS)

tests_plugins_detect_minor_newer_la_SOURCES = \
	tests/plugins/detect-minor-newer.c
tests_plugins_detect_minor_newer_la_CFLAGS = $(TESTS_PLUGIN_CFLAGS)
tests_plugins_detect_minor_newer_la_LDFLAGS = $(TESTS_PLUGIN_LDFLAGS)

# Exports a symbol, but not "vnm_plugin": no export filter.
tests_plugins_detect_no_symbol_la_SOURCES = tests/plugins/detect-no-symbol.c
tests_plugins_detect_no_symbol_la_CFLAGS = $(TESTS_PLUGIN_CFLAGS)
tests_plugins_detect_no_symbol_la_LDFLAGS = $(AM_LDFLAGS) -module \
	-avoid-version -shared -rpath /nowhere

tests_plugins_detect_unknown_kind_la_SOURCES = \
	tests/plugins/detect-unknown-kind.c
tests_plugins_detect_unknown_kind_la_CFLAGS = $(TESTS_PLUGIN_CFLAGS)
tests_plugins_detect_unknown_kind_la_LDFLAGS = $(TESTS_PLUGIN_LDFLAGS)

tests_plugins_detect_init_fails_la_SOURCES = \
	tests/plugins/detect-init-fails.c
tests_plugins_detect_init_fails_la_CFLAGS = $(TESTS_PLUGIN_CFLAGS)
tests_plugins_detect_init_fails_la_LDFLAGS = $(TESTS_PLUGIN_LDFLAGS)

tests_plugins_detect_dup_name_la_SOURCES = tests/plugins/detect-dup-name.c
tests_plugins_detect_dup_name_la_CFLAGS = $(TESTS_PLUGIN_CFLAGS)
tests_plugins_detect_dup_name_la_LDFLAGS = $(TESTS_PLUGIN_LDFLAGS)

tests_plugins_detect_bad_conf_la_SOURCES = tests/plugins/detect-bad-conf.c
tests_plugins_detect_bad_conf_la_CFLAGS = $(TESTS_PLUGIN_CFLAGS)
tests_plugins_detect_bad_conf_la_LDFLAGS = $(TESTS_PLUGIN_LDFLAGS)

tests_plugins_detect_small_size_la_SOURCES = \
	tests/plugins/detect-small-size.c
tests_plugins_detect_small_size_la_CFLAGS = $(TESTS_PLUGIN_CFLAGS)
tests_plugins_detect_small_size_la_LDFLAGS = $(TESTS_PLUGIN_LDFLAGS)

# The GeoIP enricher's and the Prometheus endpoint's unit tests.
include tests/unit/geoprom.mk

# vnmonctl's HTML report (SVG charts, escaping, document).
include tests/unit/report.mk

# vnmonctl's bandwidth views (series reader, statistics, live merge).
include tests/unit/ctlviews.mk

# The collector's conntrack (parser, accounting, attribution, table).
include tests/unit/conntrack.mk

# The analyzer's incident store and alert record (a real redis-server).
include tests/unit/incidents.mk
