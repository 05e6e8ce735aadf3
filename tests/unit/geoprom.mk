# Unit tests of the GeoIP enricher and of the agent's Prometheus endpoint.
TESTS += tests/unit/test-geoip tests/unit/test-prometheus
check_PROGRAMS += tests/unit/test-geoip tests/unit/test-prometheus

# Compiles the plugin's .c and drives it on the fake host; builds its
# databases at run time with tests/data/mkmmdb.pl (found through $srcdir,
# else the source tree below).
tests_unit_test_geoip_SOURCES = \
	tests/unit/test-geoip.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	enrichers/enrich-geoip.c
tests_unit_test_geoip_CPPFLAGS = $(AM_CPPFLAGS) \
	-DVNM_ABS_TOP_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_geoip_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(MAXMINDDB_CFLAGS)
tests_unit_test_geoip_LDADD = lib/libvnmon-core.la $(CMOCKA_LIBS) \
	$(MAXMINDDB_LIBS)

# The exposition writer, the metric mappings, prometheus_listen, and the
# HTTP server scraped with libevent's client on 127.0.0.1 (any free port).
tests_unit_test_prometheus_SOURCES = \
	tests/unit/test-prometheus.c \
	collector/prometheus.c collector/prometheus.h
tests_unit_test_prometheus_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(EVENT_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_prometheus_LDADD = lib/libvnmon-core.la $(CMOCKA_LIBS) \
	$(EVENT_LIBS) $(JANSSON_LIBS)

EXTRA_DIST += tests/data/mkmmdb.pl
