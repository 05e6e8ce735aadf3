# Unit tests of the "webhook" and "email" alert sinks, against real
# receivers on loopback started by the tests (tests/unit/py-receiver.h:
# Python's http.server, and aiosmtpd from python3-aiosmtpd).
TESTS += \
	tests/unit/test-sink-webhook \
	tests/unit/test-sink-email
check_PROGRAMS += \
	tests/unit/test-sink-webhook \
	tests/unit/test-sink-email

tests_unit_test_sink_webhook_SOURCES = \
	tests/unit/test-sink-webhook.c \
	tests/unit/py-receiver.c tests/unit/py-receiver.h \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	alerting/sink-webhook.c
tests_unit_test_sink_webhook_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(CURL_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_sink_webhook_LDADD = alerting/libsink-util.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS) \
	$(CURL_LIBS) $(JANSSON_LIBS)

tests_unit_test_sink_email_SOURCES = \
	tests/unit/test-sink-email.c \
	tests/unit/py-receiver.c tests/unit/py-receiver.h \
	tests/unit/fake-host.c tests/unit/fake-host.h \
	alerting/sink-email.c
tests_unit_test_sink_email_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(CURL_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_sink_email_LDADD = alerting/libsink-util.la \
	lib/libvnmon-core.la $(CMOCKA_LIBS) \
	$(CURL_LIBS) $(JANSSON_LIBS)
