# vnmon-agent: ovs-ext/ and collector/ linked into one daemon.
sbin_PROGRAMS += collector/vnmon-agent
collector_vnmon_agent_SOURCES = collector/vnmon-agent.c \
	collector/agent-bw.c collector/agent-bw.h \
	collector/bw.c collector/bw.h
collector_vnmon_agent_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
collector_vnmon_agent_LDADD = ovs-ext/libovs-ext.la lib/libvnmon-core.la \
	$(JANSSON_LIBS)

# The agent's Prometheus endpoint (GET /metrics on libevent's evhttp).
collector_vnmon_agent_SOURCES += collector/prometheus.c \
	collector/prometheus.h
collector_vnmon_agent_CFLAGS += $(EVENT_CFLAGS)
collector_vnmon_agent_LDADD += $(EVENT_LIBS)

# Conntrack: kernel (libnetfilter_conntrack) and OVS userspace.
collector_vnmon_agent_SOURCES += collector/conntrack.c collector/conntrack.h \
	collector/ovs-conntrack.c collector/ovs-conntrack.h
collector_vnmon_agent_CFLAGS += $(NFCT_CFLAGS) $(EVENT_CFLAGS)
collector_vnmon_agent_LDADD += $(NFCT_LIBS) $(EVENT_LIBS)
