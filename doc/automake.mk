# Documentation, installed in $(docdir).
dist_doc_DATA += README.md \
	doc/ARCHITECTURE.md \
	doc/configuration.md \
	doc/flow-record.md \
	doc/grafana-dashboard.json \
	doc/plugins.md \
	doc/prometheus.md \
	doc/redis-keys.md \
	doc/vnmonctl.md
# Alerts: incidents, the alert record, the detectors.
dist_doc_DATA += doc/alerts.md
dist_doc_DATA += doc/alerting.md
