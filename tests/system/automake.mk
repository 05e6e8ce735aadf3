# System tests: real ovsdb-server/ovs-vswitchd, Redis, network namespaces.
# Root only; run one at a time by "make check-system".
SYSTEM_TESTS += \
	tests/system/test-lab.sh \
	tests/system/test-daemons.sh \
	tests/system/test-redis-outage.sh \
	tests/system/test-config-errors.sh \
	tests/system/test-quickstart.sh \
	tests/system/test-offline.sh \
	tests/system/test-inventory.sh \
	tests/system/test-tap-netdev.sh \
	tests/system/test-tap-flow.sh \
	tests/system/test-flows.sh \
	tests/system/test-agent-restarts.sh \
	tests/system/test-detect-scan.sh \
	tests/system/test-tenancy.sh \
	tests/system/test-bandwidth.sh \
	tests/system/test-bw-outage.sh
# vnmonctl's bandwidth views on a synthetic data set.
SYSTEM_TESTS += tests/system/test-ctl-views.sh
# vnmonctl topology and report --html (headless Chromium) on known data.
SYSTEM_TESTS += tests/system/test-report.sh
# Kernel and OVS userspace conntrack, vnmonctl conns.
SYSTEM_TESTS += tests/system/test-conntrack.sh

EXTRA_DIST += $(SYSTEM_TESTS) tests/system/lib.sh tests/system/run.sh \
	tests/system/daemon-lib.sh tests/data/gen-syn-flood.py \
	tests/system/bwcheck.py

check-system: all $(check_LTLIBRARIES) $(check_PROGRAMS)
	VNM_BUILDDIR=$(abs_top_builddir) \
	    $(SHELL) $(top_srcdir)/tests/system/run.sh \
	    $(addprefix $(top_srcdir)/,$(SYSTEM_TESTS))
.PHONY: check-system

# The GeoIP enricher and the agent's Prometheus endpoint (issue 4).
SYSTEM_TESTS += \
	tests/system/test-geoip.sh \
	tests/system/test-prometheus.sh
# Detectors vlan-hop, vxlan-hop, isolation and new-port (issue 5).
SYSTEM_TESTS += \
	tests/system/test-detect-vlan-hop.sh \
	tests/system/test-detect-vxlan-hop.sh \
	tests/system/test-detect-isolation.sh \
	tests/system/test-detect-new-port.sh
# The spoofing and rogue-server detectors (issue 5).
SYSTEM_TESTS += tests/system/test-detect-spoof.sh
# Incidents in Redis shared by analyzers: restart mid-incident, two
# analyzers in one group, archive, vnmonctl alerts (issue 5).
SYSTEM_TESTS += tests/system/test-incidents.sh

# The traffic detectors: scans, floods, lateral movement, nDPI risks, GeoIP,
# volume; and ten minutes of benign traffic with every detector loaded.
SYSTEM_TESTS += \
	tests/system/test-detect-traffic.sh \
	tests/system/test-benign.sh
# Quarantine: drop rules applied, released, restored, release on stop.
SYSTEM_TESTS += tests/system/test-quarantine.sh
# Alerting acceptance (issue 6): webhook, e-mail, syslog and jsonl sinks,
# routing by tenant, the spool across a receiver outage and an analyzer
# SIGKILL.
SYSTEM_TESTS += tests/system/test-alerting.sh
EXTRA_DIST += tests/system/alert-receivers.py
# Tenant access: Redis ACL users of vnmonctl tenant, scoped views, NOPERM.
SYSTEM_TESTS += tests/system/test-tenant-access.sh
