# Documentation, installed in $(docdir).
dist_doc_DATA += README.md \
	doc/ARCHITECTURE.md \
	doc/configuration.md \
	doc/flow-record.md \
	doc/plugins.md \
	doc/redis-keys.md
