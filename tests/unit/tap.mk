# unit tests of ovs-ext component: tap.  test-tap needs no root: BPF
# program generation (checked by an interpreter and by the kernel's own
# checker on a UDP socket), the port map, rule text, dump parsing, child
# processes.  tap-driver is the system tests' driver
# (tests/system/test-tap-*.sh, root).  Both compile the tap's sources
# themselves, so that they do not depend on the rest of libovs-ext.
TAP_SOURCES = \
	ovs-ext/tap-ring.c ovs-ext/tap-ring.h \
	ovs-ext/tap-netdev.c ovs-ext/tap-netdev.h \
	ovs-ext/tap-flow.c ovs-ext/tap-flow.h

TESTS += tests/unit/test-tap
check_PROGRAMS += tests/unit/test-tap tests/system/tap-driver

tests_unit_test_tap_SOURCES = tests/unit/test-tap.c $(TAP_SOURCES)
tests_unit_test_tap_CFLAGS = $(TESTS_UNIT_CFLAGS)
tests_unit_test_tap_LDADD = $(TESTS_UNIT_LDADD)

tests_system_tap_driver_SOURCES = tests/system/tap-driver.c $(TAP_SOURCES)
tests_system_tap_driver_CFLAGS = $(AM_CFLAGS)
tests_system_tap_driver_LDADD = lib/libvnmon-core.la
