# Installed plugin ABI headers.
pkginclude_HEADERS += \
	include/vnmon/alert.h \
	include/vnmon/conf.h \
	include/vnmon/flow.h \
	include/vnmon/plugin.h
