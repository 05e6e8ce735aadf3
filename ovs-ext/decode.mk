# ovs-ext component: the packet decoder (ovs-ext/decode.h).
ovs_ext_libovs_ext_la_SOURCES += ovs-ext/decode.c ovs-ext/decode.h
