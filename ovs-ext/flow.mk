# ovs-ext component: flow (files added by its author)
# The flow table and nDPI classification.  classify-ndpi.c is the only file
# that includes nDPI's headers.
ovs_ext_libovs_ext_la_SOURCES += \
	ovs-ext/classify-ndpi.c ovs-ext/classify-ndpi.h \
	ovs-ext/flow-table.c ovs-ext/flow-table.h
