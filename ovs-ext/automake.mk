# ovs-ext: the agent's eyes (OVSDB inventory, taps, decoder, flow table,
# nDPI), built as a convenience library that vnmon-agent and the unit tests
# link.  Each component lists its files in its own fragment.
noinst_LTLIBRARIES += ovs-ext/libovs-ext.la
ovs_ext_libovs_ext_la_SOURCES =
ovs_ext_libovs_ext_la_CFLAGS = $(AM_CFLAGS) $(NDPI_CFLAGS) $(JANSSON_CFLAGS) \
	$(EVENT_CFLAGS) $(PCAP_CFLAGS)
ovs_ext_libovs_ext_la_LIBADD = lib/libvnmon-core.la $(NDPI_LIBS) \
	$(JANSSON_LIBS) $(EVENT_LIBS) $(PCAP_LIBS)

include ovs-ext/decode.mk
include ovs-ext/ovsdb.mk
include ovs-ext/flow.mk
include ovs-ext/tap.mk
include ovs-ext/pipeline.mk
# Quarantine: drop rules on the ports Redis says to quarantine.
ovs_ext_libovs_ext_la_SOURCES += ovs-ext/quarantine.c ovs-ext/quarantine.h
