# Unit tests of the agent's pipeline pieces (lead's).
TESTS += tests/unit/test-flow-codec tests/unit/test-flow-class
check_PROGRAMS += tests/unit/test-flow-codec tests/unit/test-flow-class
tests_unit_test_flow_codec_SOURCES = tests/unit/test-flow-codec.c
tests_unit_test_flow_codec_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_test_flow_codec_LDADD = lib/libvnmon-core.la $(CMOCKA_LIBS) \
	$(JANSSON_LIBS)
tests_unit_test_flow_class_SOURCES = tests/unit/test-flow-class.c
tests_unit_test_flow_class_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_flow_class_LDADD = ovs-ext/libovs-ext.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS)
TESTS += tests/unit/test-port-map
check_PROGRAMS += tests/unit/test-port-map
tests_unit_test_port_map_SOURCES = tests/unit/test-port-map.c
tests_unit_test_port_map_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_port_map_LDADD = ovs-ext/libovs-ext.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS)
TESTS += tests/unit/test-record-queue
check_PROGRAMS += tests/unit/test-record-queue
tests_unit_test_record_queue_SOURCES = tests/unit/test-record-queue.c
tests_unit_test_record_queue_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_record_queue_LDADD = ovs-ext/libovs-ext.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS) -lpthread
