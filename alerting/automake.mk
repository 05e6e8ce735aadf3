# Alert sink plugins, built as a third party would build them: one module
# each, installed in $(pkglibdir), exporting only "vnm_plugin".
pkglib_LTLIBRARIES += alerting/sink-jsonl.la
alerting_sink_jsonl_la_SOURCES = alerting/sink-jsonl.c
alerting_sink_jsonl_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden \
	$(JANSSON_CFLAGS)
alerting_sink_jsonl_la_LDFLAGS = $(PLUGIN_LDFLAGS)
alerting_sink_jsonl_la_LIBADD = alerting/libsink-util.la $(JANSSON_LIBS)

pkglib_LTLIBRARIES += alerting/sink-syslog.la
alerting_sink_syslog_la_SOURCES = alerting/sink-syslog.c
alerting_sink_syslog_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
alerting_sink_syslog_la_LDFLAGS = $(PLUGIN_LDFLAGS)

pkglib_LTLIBRARIES += alerting/sink-redis-stream.la
alerting_sink_redis_stream_la_SOURCES = alerting/sink-redis-stream.c
alerting_sink_redis_stream_la_CFLAGS = $(AM_CFLAGS) $(HIREDIS_CFLAGS) \
	-fvisibility=hidden
alerting_sink_redis_stream_la_LDFLAGS = $(PLUGIN_LDFLAGS)
alerting_sink_redis_stream_la_LIBADD = $(HIREDIS_LIBS)

# HTTP POST through libcurl (doc/alerting.md, "webhook").
pkglib_LTLIBRARIES += alerting/sink-webhook.la
alerting_sink_webhook_la_SOURCES = alerting/sink-webhook.c
alerting_sink_webhook_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden \
	$(CURL_CFLAGS) $(JANSSON_CFLAGS)
alerting_sink_webhook_la_LDFLAGS = $(PLUGIN_LDFLAGS)
alerting_sink_webhook_la_LIBADD = $(CURL_LIBS) $(JANSSON_LIBS)

# SMTP through libcurl (doc/alerting.md, "email").
pkglib_LTLIBRARIES += alerting/sink-email.la
alerting_sink_email_la_SOURCES = alerting/sink-email.c
alerting_sink_email_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden \
	$(CURL_CFLAGS) $(JANSSON_CFLAGS)
alerting_sink_email_la_LDFLAGS = $(PLUGIN_LDFLAGS)
alerting_sink_email_la_LIBADD = $(CURL_LIBS) $(JANSSON_LIBS)

# Helpers shared by the sinks (output buffer, tenant / min_severity / types
# filter, "${field}" templates), linked into each sink and its unit test.
noinst_LTLIBRARIES += alerting/libsink-util.la
alerting_libsink_util_la_SOURCES = \
	alerting/sink-util.c alerting/sink-util.h
alerting_libsink_util_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden \
	$(JANSSON_CFLAGS)
alerting_libsink_util_la_LIBADD = $(JANSSON_LIBS)
alerting_sink_syslog_la_CFLAGS += $(JANSSON_CFLAGS)
alerting_sink_syslog_la_LIBADD = alerting/libsink-util.la
alerting_sink_redis_stream_la_CFLAGS += $(JANSSON_CFLAGS)
alerting_sink_redis_stream_la_LIBADD += alerting/libsink-util.la
alerting_sink_webhook_la_LIBADD += alerting/libsink-util.la
alerting_sink_email_la_LIBADD += alerting/libsink-util.la
