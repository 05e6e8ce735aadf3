ovs_ext_libovs_ext_la_SOURCES += ovs-ext/flow-class.c ovs-ext/flow-class.h
