# Unit tests of the packet decoder (ovs-ext/decode.c): hand-built frames
# for every layer and every error reason.
TESTS += tests/unit/test-decode
check_PROGRAMS += tests/unit/test-decode
tests_unit_test_decode_SOURCES = tests/unit/test-decode.c
tests_unit_test_decode_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_decode_LDADD = ovs-ext/libovs-ext.la lib/libvnmon-core.la \
	$(CMOCKA_LIBS)
