# Unit tests of the "syslog" alert sink, against real receivers the test
# starts: a UDP socket on 127.0.0.1 and a unix datagram socket.
TESTS += tests/unit/test-sink-syslog
check_PROGRAMS += tests/unit/test-sink-syslog

tests_unit_test_sink_syslog_SOURCES = \
	tests/unit/test-sink-syslog.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	alerting/sink-syslog.c
tests_unit_test_sink_syslog_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_unit_test_sink_syslog_LDADD = alerting/libsink-util.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS)
