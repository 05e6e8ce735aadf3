# ovs-ext component: ovsdb.  The OVSDB JSON-RPC client (ovsdb.c) and the
# live inventory built on it (inventory.c).
ovs_ext_libovs_ext_la_SOURCES += \
	ovs-ext/ovsdb.c ovs-ext/ovsdb.h \
	ovs-ext/inventory.c ovs-ext/inventory.h
