# Alert sink plugins, built as a third party would build them: one module
# each, installed in $(pkglibdir), exporting only "vnm_plugin".
pkglib_LTLIBRARIES += alerting/sink-jsonl.la
alerting_sink_jsonl_la_SOURCES = alerting/sink-jsonl.c
alerting_sink_jsonl_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
alerting_sink_jsonl_la_LDFLAGS = $(PLUGIN_LDFLAGS)
