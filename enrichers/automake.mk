# Enricher plugins, loaded by vnmon-agent to label flow records: built as a
# third party would build them, one module each, installed in
# $(pkglibdir) as enrich-NAME.so, exporting only "vnm_plugin".

# Enricher "geoip": country, AS number and organisation of external peers,
# from MaxMind DB files (libmaxminddb).
pkglib_LTLIBRARIES += enrichers/enrich-geoip.la
enrichers_enrich_geoip_la_SOURCES = enrichers/enrich-geoip.c
enrichers_enrich_geoip_la_CFLAGS = $(AM_CFLAGS) $(MAXMINDDB_CFLAGS) \
	-fvisibility=hidden
enrichers_enrich_geoip_la_LDFLAGS = $(PLUGIN_LDFLAGS)
enrichers_enrich_geoip_la_LIBADD = $(MAXMINDDB_LIBS)
