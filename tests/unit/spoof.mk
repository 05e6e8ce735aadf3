# Unit tests of the detectors' helpers (analyzer/detect-util.c) and of the
# spoofing and rogue-server detectors, each compiled with its plugin's .c
# and driven on the fake host (tests/unit/fake-host.c).
TESTS += \
	tests/unit/test-detect-util
check_PROGRAMS += \
	tests/unit/test-detect-util

tests_unit_test_detect_util_SOURCES = tests/unit/test-detect-util.c
tests_unit_test_detect_util_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_detect_util_LDADD = analyzer/libdetect-util.la $(CMOCKA_LIBS)

# The detectors' tests share the lab of tests/unit/spoof-lab.h.
SPOOF_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
SPOOF_TEST_LDADD = analyzer/libdetect-util.la lib/libvnmon-core.la \
	$(CMOCKA_LIBS)
noinst_HEADERS += tests/unit/spoof-lab.h

TESTS += tests/unit/test-detect-ip-spoof
check_PROGRAMS += tests/unit/test-detect-ip-spoof
tests_unit_test_detect_ip_spoof_SOURCES = \
	tests/unit/test-detect-ip-spoof.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-ip-spoof.c
tests_unit_test_detect_ip_spoof_CFLAGS = $(SPOOF_TEST_CFLAGS)
tests_unit_test_detect_ip_spoof_LDADD = $(SPOOF_TEST_LDADD)

TESTS += tests/unit/test-detect-mac-spoof
check_PROGRAMS += tests/unit/test-detect-mac-spoof
tests_unit_test_detect_mac_spoof_SOURCES = \
	tests/unit/test-detect-mac-spoof.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-mac-spoof.c
tests_unit_test_detect_mac_spoof_CFLAGS = $(SPOOF_TEST_CFLAGS)
tests_unit_test_detect_mac_spoof_LDADD = $(SPOOF_TEST_LDADD)

TESTS += tests/unit/test-detect-arp-spoof
check_PROGRAMS += tests/unit/test-detect-arp-spoof
tests_unit_test_detect_arp_spoof_SOURCES = \
	tests/unit/test-detect-arp-spoof.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-arp-spoof.c
tests_unit_test_detect_arp_spoof_CFLAGS = $(SPOOF_TEST_CFLAGS)
tests_unit_test_detect_arp_spoof_LDADD = $(SPOOF_TEST_LDADD)

TESTS += tests/unit/test-detect-nd-spoof
check_PROGRAMS += tests/unit/test-detect-nd-spoof
tests_unit_test_detect_nd_spoof_SOURCES = \
	tests/unit/test-detect-nd-spoof.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-nd-spoof.c
tests_unit_test_detect_nd_spoof_CFLAGS = $(SPOOF_TEST_CFLAGS)
tests_unit_test_detect_nd_spoof_LDADD = $(SPOOF_TEST_LDADD)

TESTS += tests/unit/test-detect-rogue-dhcp
check_PROGRAMS += tests/unit/test-detect-rogue-dhcp
tests_unit_test_detect_rogue_dhcp_SOURCES = \
	tests/unit/test-detect-rogue-dhcp.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-rogue-dhcp.c
tests_unit_test_detect_rogue_dhcp_CFLAGS = $(SPOOF_TEST_CFLAGS)
tests_unit_test_detect_rogue_dhcp_LDADD = $(SPOOF_TEST_LDADD)

TESTS += tests/unit/test-detect-rogue-ra
check_PROGRAMS += tests/unit/test-detect-rogue-ra
tests_unit_test_detect_rogue_ra_SOURCES = \
	tests/unit/test-detect-rogue-ra.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	analyzer/detect-rogue-ra.c
tests_unit_test_detect_rogue_ra_CFLAGS = $(SPOOF_TEST_CFLAGS)
tests_unit_test_detect_rogue_ra_LDADD = $(SPOOF_TEST_LDADD)
