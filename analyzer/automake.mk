# vnmon-analyzer and the built-in detector plugins.
sbin_PROGRAMS += analyzer/vnmon-analyzer
analyzer_vnmon_analyzer_SOURCES = \
	analyzer/incident.c analyzer/incident.h \
	analyzer/net-sync.c analyzer/net-sync.h \
	analyzer/vnmon-analyzer.c
analyzer_vnmon_analyzer_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
analyzer_vnmon_analyzer_LDADD = lib/libvnmon-core.la $(JANSSON_LIBS)

# Detector "scan": port scans and host sweeps.
pkglib_LTLIBRARIES += analyzer/detect-scan.la
analyzer_detect_scan_la_SOURCES = analyzer/detect-scan.c
analyzer_detect_scan_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_scan_la_LDFLAGS = $(PLUGIN_LDFLAGS)
