# Unit tests of ovs-ext component: ovsdb (the OVSDB client and the
# inventory), and the inventory driver of tests/system/test-inventory.sh.
# Both compile the component's sources themselves, so that they do not
# depend on the rest of libovs-ext.
TESTS += tests/unit/test-ovsdb
check_PROGRAMS += tests/unit/test-ovsdb tests/system/inventory-driver

OVSDB_TEST_SOURCES = \
	ovs-ext/ovsdb.c ovs-ext/ovsdb.h \
	ovs-ext/inventory.c ovs-ext/inventory.h

# No root: a fake ovsdb-server on a unix socket in a temporary directory,
# and a TCP one on 127.0.0.1.
tests_unit_test_ovsdb_SOURCES = tests/unit/test-ovsdb.c $(OVSDB_TEST_SOURCES)
tests_unit_test_ovsdb_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(JANSSON_CFLAGS) $(EVENT_CFLAGS)
tests_unit_test_ovsdb_LDADD = lib/libvnmon-core.la $(CMOCKA_LIBS) \
	$(JANSSON_LIBS) $(EVENT_LIBS)

# Runs the inventory against a lab's ovsdb-server and publishes it to the
# lab's Redis (tests/system/test-inventory.sh).
tests_system_inventory_driver_SOURCES = tests/system/inventory-driver.c \
	$(OVSDB_TEST_SOURCES)
tests_system_inventory_driver_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) \
	$(EVENT_CFLAGS)
tests_system_inventory_driver_LDADD = lib/libvnmon-core.la $(JANSSON_LIBS) \
	$(EVENT_LIBS)
