# vnmon-agent: ovs-ext/ and collector/ linked into one daemon.
sbin_PROGRAMS += collector/vnmon-agent
collector_vnmon_agent_SOURCES = collector/vnmon-agent.c
collector_vnmon_agent_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
collector_vnmon_agent_LDADD = ovs-ext/libovs-ext.la lib/libvnmon-core.la \
	$(JANSSON_LIBS)
