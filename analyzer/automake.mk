# vnmon-analyzer and the built-in detector plugins.
sbin_PROGRAMS += analyzer/vnmon-analyzer
analyzer_vnmon_analyzer_SOURCES = \
	analyzer/incident.c analyzer/incident.h \
	analyzer/vnmon-analyzer.c
analyzer_vnmon_analyzer_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
analyzer_vnmon_analyzer_LDADD = lib/libvnmon-core.la $(JANSSON_LIBS)
