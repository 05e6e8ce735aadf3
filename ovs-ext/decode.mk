ovs_ext_libovs_ext_la_SOURCES += ovs-ext/decode.h
