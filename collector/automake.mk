# vnmon-agent: ovs-ext/ and collector/ linked into one daemon.
sbin_PROGRAMS += collector/vnmon-agent
collector_vnmon_agent_SOURCES = collector/vnmon-agent.c
collector_vnmon_agent_LDADD = lib/libvnmon-core.la
