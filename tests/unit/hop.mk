# Unit tests of the detectors "vlan-hop", "vxlan-hop", "isolation" and
# "new-port", each compiled with its plugin's .c and driven on the fake
# host (tests/unit/fake-host.c) over the network of tests/unit/hop-lab.h.
TESTS += \
	tests/unit/test-detect-vlan-hop \
	tests/unit/test-detect-vxlan-hop \
	tests/unit/test-detect-isolation \
	tests/unit/test-detect-new-port
check_PROGRAMS += \
	tests/unit/test-detect-vlan-hop \
	tests/unit/test-detect-vxlan-hop \
	tests/unit/test-detect-isolation \
	tests/unit/test-detect-new-port
EXTRA_DIST += tests/unit/hop-lab.h

tests_unit_test_detect_vlan_hop_SOURCES = \
	tests/unit/test-detect-vlan-hop.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-vlan-hop.c
tests_unit_test_detect_vlan_hop_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_detect_vlan_hop_LDADD = analyzer/libdetect-util.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS)

tests_unit_test_detect_vxlan_hop_SOURCES = \
	tests/unit/test-detect-vxlan-hop.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-vxlan-hop.c
tests_unit_test_detect_vxlan_hop_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_detect_vxlan_hop_LDADD = analyzer/libdetect-util.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS)

tests_unit_test_detect_isolation_SOURCES = \
	tests/unit/test-detect-isolation.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-isolation.c
tests_unit_test_detect_isolation_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_detect_isolation_LDADD = analyzer/libdetect-util.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS)

# Feeds the network view agent inventory snapshots (JSON).
tests_unit_test_detect_new_port_SOURCES = \
	tests/unit/test-detect-new-port.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-new-port.c
tests_unit_test_detect_new_port_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_test_detect_new_port_LDADD = analyzer/libdetect-util.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
