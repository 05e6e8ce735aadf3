# libvnmon-core: what every daemon shares (log, config, plugin loader, Redis
# layer, daemon basics).  Not installed.
noinst_LTLIBRARIES += lib/libvnmon-core.la
lib_libvnmon_core_la_SOURCES = \
	analyzer/tenancy.c analyzer/tenancy.h \
	lib/bw-series.c lib/bw-series.h \
	lib/conf.c lib/conf.h \
	lib/flow-codec.c lib/flow-codec.h \
	lib/hash.c lib/hash.h \
	lib/counter.c lib/counter.h \
	lib/daemon.c lib/daemon.h \
	lib/loader.c lib/loader.h \
	lib/log.c lib/log.h \
	lib/redis.c lib/redis.h \
	lib/util.c lib/util.h
lib_libvnmon_core_la_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(HIREDIS_CFLAGS) \
	$(EVENT_CFLAGS) $(JANSSON_CFLAGS)
lib_libvnmon_core_la_LIBADD = $(INIH_LIBS) $(HIREDIS_LIBS) $(EVENT_LIBS) \
	$(JANSSON_LIBS)
# Quarantine requests (vnmonctl and the analyzer; the agent applies them).
lib_libvnmon_core_la_SOURCES += lib/quarantine.c lib/quarantine.h
