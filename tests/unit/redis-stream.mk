# Unit tests of the "redis-stream" alert sink, against a real redis-server
# the test starts on a unix socket in a temporary directory.
TESTS += tests/unit/test-sink-redis-stream
check_PROGRAMS += tests/unit/test-sink-redis-stream

tests_unit_test_sink_redis_stream_SOURCES = \
	tests/unit/test-sink-redis-stream.c \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	alerting/sink-redis-stream.c
tests_unit_test_sink_redis_stream_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(HIREDIS_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_sink_redis_stream_LDADD = alerting/libsink-util.la \
	lib/libvnmon-core.la \
	$(CMOCKA_LIBS) $(HIREDIS_LIBS)
