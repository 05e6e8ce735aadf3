/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vnmon-agent: the per-hypervisor daemon.  It hosts ovs-ext (OVS inventory,
 * taps, decoding, flow table, nDPI) and the collector (bandwidth, conntrack
 * and flow records into Redis), and loads enricher plugins that label flow
 * records before they are published.
 *
 * This file is the daemon shell: configuration, plugins, Redis and status
 * come from lib/daemon.c.
 */
#include <config.h>

#include <stdlib.h>

#include "lib/daemon.h"
#include "lib/log.h"

VNM_LOG_MODULE(agent);

int
main(int argc, char *argv[])
{
    static const char *const named[] = { "enricher", NULL };
    static const struct vnm_daemon_spec spec = {
        .name = "agent",
        .summary = "watch the traffic of the VMs on this hypervisor's OVS "
                   "bridges",
        .named_sections = named,
        .plugin_kinds = 1u << VNM_PLUGIN_ENRICHER,
    };

    return vnm_daemon_main(&spec, NULL, argc, argv);
}
