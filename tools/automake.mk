# vnmonctl and the lab/quickstart scripts.
bin_PROGRAMS += tools/vnmonctl
tools_vnmonctl_SOURCES = tools/vnmonctl.c tools/vnmonctl.h
tools_vnmonctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tools_vnmonctl_LDADD = lib/libvnmon-core.la $(JANSSON_LIBS)
# topology and report (inline SVG charts in one HTML file).
tools_vnmonctl_SOURCES += tools/ctl-topology.c tools/ctl-topology.h \
	tools/ctl-report.c tools/report-html.c tools/report-html.h \
	tools/svg.c tools/svg.h
tools_vnmonctl_LDADD += -lm
# Bandwidth views: the series reader, bw, peak/capacity, top.
tools_vnmonctl_SOURCES += tools/ctl-series.c tools/ctl-series.h \
	tools/ctl-bw.c tools/ctl-peak.c tools/ctl-top.c
tools_vnmonctl_SOURCES += tools/ctl-conns.c

dist_noinst_SCRIPTS += tools/install-deps.sh tools/vnmon-lab
dist_noinst_SCRIPTS += tools/quickstart.sh

# systemd units, with the install paths filled in.
systemdunit_DATA += tools/systemd/vnmon-agent.service \
	tools/systemd/vnmon-analyzer.service
EXTRA_DIST += tools/systemd/vnmon-agent.service.in \
	tools/systemd/vnmon-analyzer.service.in
CLEANFILES += tools/systemd/vnmon-agent.service \
	tools/systemd/vnmon-analyzer.service
tools/systemd/%.service: tools/systemd/%.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) tools/systemd && \
	sed -e 's|@sbindir@|$(sbindir)|g' -e 's|@sysconfdir@|$(sysconfdir)|g' \
	    -e 's|@docdir@|$(docdir)|g' $< >$@.tmp && mv $@.tmp $@

# Example configurations, installed once (never over an edited one).
EXTRA_DIST += etc/agent.conf etc/analyzer.conf
install-data-local:
	$(MKDIR_P) $(DESTDIR)$(sysconfdir)/vnmon
	for f in agent analyzer; do \
	    test -e $(DESTDIR)$(sysconfdir)/vnmon/$$f.conf || \
	    $(INSTALL_DATA) $(srcdir)/etc/$$f.conf \
	        $(DESTDIR)$(sysconfdir)/vnmon/$$f.conf; \
	done
uninstall-local:
	for f in agent analyzer; do \
	    cmp -s $(srcdir)/etc/$$f.conf $(DESTDIR)$(sysconfdir)/vnmon/$$f.conf \
	    && rm -f $(DESTDIR)$(sysconfdir)/vnmon/$$f.conf; \
	done; true
dist_noinst_SCRIPTS += tools/lint.sh tools/check.sh
# Incidents: vnmonctl alerts (listing and --follow).
tools_vnmonctl_SOURCES += tools/ctl-alerts.c
# Quarantine: vnmonctl quarantine / release.
tools_vnmonctl_SOURCES += tools/ctl-quarantine.c
# Tenant access: vnmonctl tenant add/del/list (Redis ACL users).
tools_vnmonctl_SOURCES += tools/ctl-tenant.c
