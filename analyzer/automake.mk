# vnmon-analyzer and the built-in detector plugins.
sbin_PROGRAMS += analyzer/vnmon-analyzer
analyzer_vnmon_analyzer_SOURCES = \
	analyzer/incident.c analyzer/incident.h \
	analyzer/net-sync.c analyzer/net-sync.h \
	analyzer/route.c analyzer/route.h \
	analyzer/spool.c analyzer/spool.h \
	analyzer/vnmon-analyzer.c
analyzer_vnmon_analyzer_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
analyzer_vnmon_analyzer_LDADD = lib/libvnmon-core.la $(JANSSON_LIBS)

# Detector "scan": port scans and host sweeps.
pkglib_LTLIBRARIES += analyzer/detect-scan.la
analyzer_detect_scan_la_SOURCES = analyzer/detect-scan.c
analyzer_detect_scan_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_scan_la_LDFLAGS = $(PLUGIN_LDFLAGS)

# Helpers shared by the detector plugins (evidence lines, incident keys,
# per-flow deltas), linked into each detector and its unit test.
noinst_LTLIBRARIES += analyzer/libdetect-util.la
analyzer_libdetect_util_la_SOURCES = \
	analyzer/detect-util.c analyzer/detect-util.h
analyzer_libdetect_util_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden

# Detector "ip-spoof": IP source addresses not in the ingress port's binding.
pkglib_LTLIBRARIES += analyzer/detect-ip-spoof.la
analyzer_detect_ip_spoof_la_SOURCES = analyzer/detect-ip-spoof.c
analyzer_detect_ip_spoof_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_ip_spoof_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_ip_spoof_la_LIBADD = analyzer/libdetect-util.la

# Detector "mac-spoof": source MACs not in the ingress port's binding.
pkglib_LTLIBRARIES += analyzer/detect-mac-spoof.la
analyzer_detect_mac_spoof_la_SOURCES = analyzer/detect-mac-spoof.c
analyzer_detect_mac_spoof_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_mac_spoof_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_mac_spoof_la_LIBADD = analyzer/libdetect-util.la

# Detectors "vlan-hop", "vxlan-hop", "isolation" and "new-port": frames
# leaving their VLAN, tunnel traffic from VMs or with unknown VNIs, flows
# across the isolation policy, unregistered or restarting ports.
pkglib_LTLIBRARIES += analyzer/detect-vlan-hop.la
analyzer_detect_vlan_hop_la_SOURCES = analyzer/detect-vlan-hop.c
analyzer_detect_vlan_hop_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_vlan_hop_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_vlan_hop_la_LIBADD = analyzer/libdetect-util.la

pkglib_LTLIBRARIES += analyzer/detect-vxlan-hop.la
analyzer_detect_vxlan_hop_la_SOURCES = analyzer/detect-vxlan-hop.c
analyzer_detect_vxlan_hop_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_vxlan_hop_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_vxlan_hop_la_LIBADD = analyzer/libdetect-util.la

pkglib_LTLIBRARIES += analyzer/detect-isolation.la
analyzer_detect_isolation_la_SOURCES = analyzer/detect-isolation.c
analyzer_detect_isolation_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_isolation_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_isolation_la_LIBADD = analyzer/libdetect-util.la

pkglib_LTLIBRARIES += analyzer/detect-new-port.la
analyzer_detect_new_port_la_SOURCES = analyzer/detect-new-port.c
analyzer_detect_new_port_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_new_port_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_new_port_la_LIBADD = analyzer/libdetect-util.la

# Detector "arp-spoof": ARP claiming addresses that are not the sender's.
pkglib_LTLIBRARIES += analyzer/detect-arp-spoof.la
analyzer_detect_arp_spoof_la_SOURCES = analyzer/detect-arp-spoof.c
analyzer_detect_arp_spoof_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_arp_spoof_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_arp_spoof_la_LIBADD = analyzer/libdetect-util.la

# Detector "nd-spoof": IPv6 NS/NA with a foreign target or link-layer
# address.
pkglib_LTLIBRARIES += analyzer/detect-nd-spoof.la
analyzer_detect_nd_spoof_la_SOURCES = analyzer/detect-nd-spoof.c
analyzer_detect_nd_spoof_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_nd_spoof_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_nd_spoof_la_LIBADD = analyzer/libdetect-util.la

# The alert record (JSON) of incidents, built for sinks and the archive.
analyzer_vnmon_analyzer_SOURCES += \
	analyzer/alert-record.c analyzer/alert-record.h

# Detector "rogue-dhcp": DHCP and DHCPv6 server messages from VM ports.
pkglib_LTLIBRARIES += analyzer/detect-rogue-dhcp.la
analyzer_detect_rogue_dhcp_la_SOURCES = analyzer/detect-rogue-dhcp.c
analyzer_detect_rogue_dhcp_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_rogue_dhcp_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_rogue_dhcp_la_LIBADD = analyzer/libdetect-util.la

# Detector "rogue-ra": IPv6 router advertisements and redirects from VM
# ports.
pkglib_LTLIBRARIES += analyzer/detect-rogue-ra.la
analyzer_detect_rogue_ra_la_SOURCES = analyzer/detect-rogue-ra.c
analyzer_detect_rogue_ra_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_rogue_ra_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_rogue_ra_la_LIBADD = analyzer/libdetect-util.la

# Traffic detectors: "scan" (above) links the helpers too; "flood" (SYN,
# UDP, ICMP floods), "volume" (traffic above a VM's learned baseline),
# "lateral" (one VM reaching many VMs on one service), "ndpi-risk" (flows
# nDPI flags) and "geo" (peers in refused countries or autonomous systems).
analyzer_detect_scan_la_LIBADD = analyzer/libdetect-util.la

pkglib_LTLIBRARIES += analyzer/detect-flood.la
analyzer_detect_flood_la_SOURCES = analyzer/detect-flood.c
analyzer_detect_flood_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_flood_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_flood_la_LIBADD = analyzer/libdetect-util.la

pkglib_LTLIBRARIES += analyzer/detect-volume.la
analyzer_detect_volume_la_SOURCES = analyzer/detect-volume.c
analyzer_detect_volume_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_volume_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_volume_la_LIBADD = analyzer/libdetect-util.la

pkglib_LTLIBRARIES += analyzer/detect-lateral.la
analyzer_detect_lateral_la_SOURCES = analyzer/detect-lateral.c
analyzer_detect_lateral_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_lateral_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_lateral_la_LIBADD = analyzer/libdetect-util.la

pkglib_LTLIBRARIES += analyzer/detect-ndpi-risk.la
analyzer_detect_ndpi_risk_la_SOURCES = analyzer/detect-ndpi-risk.c
analyzer_detect_ndpi_risk_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_ndpi_risk_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_ndpi_risk_la_LIBADD = analyzer/libdetect-util.la

pkglib_LTLIBRARIES += analyzer/detect-geo.la
analyzer_detect_geo_la_SOURCES = analyzer/detect-geo.c
analyzer_detect_geo_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
analyzer_detect_geo_la_LDFLAGS = $(PLUGIN_LDFLAGS)
analyzer_detect_geo_la_LIBADD = analyzer/libdetect-util.la
# Automatic quarantine of the ports of opted-in incident types.
analyzer_vnmon_analyzer_SOURCES += \
	analyzer/auto-quarantine.c analyzer/auto-quarantine.h
analyzer_vnmon_analyzer_LDADD += analyzer/libdetect-util.la
