# Unit tests of the traffic detectors (analyzer/detect-{scan,flood,volume,
# lateral,ndpi-risk,geo}.c), each compiled with its plugin's .c and driven
# on the fake host (tests/unit/fake-host.c).  test-detect-scan itself is
# declared in tests/unit/plugins.mk; it needs the helpers too.
tests_unit_test_detect_scan_LDADD += analyzer/libdetect-util.la

TRAFFIC_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
TRAFFIC_TEST_LDADD = analyzer/libdetect-util.la lib/libvnmon-core.la \
	$(CMOCKA_LIBS)

TESTS += tests/unit/test-detect-flood
check_PROGRAMS += tests/unit/test-detect-flood
tests_unit_test_detect_flood_SOURCES = \
	tests/unit/test-detect-flood.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-flood.c
tests_unit_test_detect_flood_CFLAGS = $(TRAFFIC_TEST_CFLAGS)
tests_unit_test_detect_flood_LDADD = $(TRAFFIC_TEST_LDADD)

TESTS += tests/unit/test-detect-lateral
check_PROGRAMS += tests/unit/test-detect-lateral
tests_unit_test_detect_lateral_SOURCES = \
	tests/unit/test-detect-lateral.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-lateral.c
tests_unit_test_detect_lateral_CFLAGS = $(TRAFFIC_TEST_CFLAGS)
tests_unit_test_detect_lateral_LDADD = $(TRAFFIC_TEST_LDADD)

TESTS += tests/unit/test-detect-ndpi-risk
check_PROGRAMS += tests/unit/test-detect-ndpi-risk
tests_unit_test_detect_ndpi_risk_SOURCES = \
	tests/unit/test-detect-ndpi-risk.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-ndpi-risk.c
tests_unit_test_detect_ndpi_risk_CFLAGS = $(TRAFFIC_TEST_CFLAGS)
tests_unit_test_detect_ndpi_risk_LDADD = $(TRAFFIC_TEST_LDADD)

TESTS += tests/unit/test-detect-geo
check_PROGRAMS += tests/unit/test-detect-geo
tests_unit_test_detect_geo_SOURCES = \
	tests/unit/test-detect-geo.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-geo.c
tests_unit_test_detect_geo_CFLAGS = $(TRAFFIC_TEST_CFLAGS)
tests_unit_test_detect_geo_LDADD = $(TRAFFIC_TEST_LDADD)

TESTS += tests/unit/test-detect-volume
check_PROGRAMS += tests/unit/test-detect-volume
tests_unit_test_detect_volume_SOURCES = \
	tests/unit/test-detect-volume.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-volume.c
tests_unit_test_detect_volume_CFLAGS = $(TRAFFIC_TEST_CFLAGS)
tests_unit_test_detect_volume_LDADD = $(TRAFFIC_TEST_LDADD)
