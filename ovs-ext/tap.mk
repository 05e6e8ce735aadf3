# ovs-ext component: tap.  AF_PACKET rings (tap-ring), the netdev tap and
# the port map shared by both taps (tap-netdev), the OVS flow tap
# (tap-flow).
ovs_ext_libovs_ext_la_SOURCES += \
	ovs-ext/tap-ring.c ovs-ext/tap-ring.h \
	ovs-ext/tap-netdev.c ovs-ext/tap-netdev.h \
	ovs-ext/tap-flow.c ovs-ext/tap-flow.h
