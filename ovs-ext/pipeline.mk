# The agent-facing part of ovs-ext (lead's): configuration, flow classes,
# port maps, offline reader, live pipeline.
ovs_ext_libovs_ext_la_SOURCES += \
	ovs-ext/flow-class.c ovs-ext/flow-class.h \
	ovs-ext/offline.c \
	ovs-ext/ovs-ext-conf.c ovs-ext/ovs-ext.h \
	ovs-ext/pipeline.c ovs-ext/pipeline.h \
	ovs-ext/port-map.c ovs-ext/port-map.h \
	ovs-ext/record-queue.c ovs-ext/record-queue.h
