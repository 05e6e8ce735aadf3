/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow classes: where a flow sits relative to VMs, tenants, the host and the
 * underlay (enum vnm_flow_class in include/vnmon/flow.h), from the ingress
 * attribution of each side and the configured host, management and underlay
 * networks.
 *
 *   underlay       a tunnel carrier (VXLAN/Geneve/GRE), or either end in an
 *                  underlay network;
 *   VM-VM same/cross tenant   both ends are VMs (the responder known by its
 *                  own ingress port, or else by its address);
 *   VM-host, host-VM          one end a VM, the other in a host or management
 *                  network (or on the host's own port);
 *   VM-external, external-VM  one end a VM, the other anywhere else.
 *
 * The classifier is immutable once built, so worker threads may share it.
 */
#ifndef VNM_FLOW_CLASS_H
#define VNM_FLOW_CLASS_H 1

#include <stdbool.h>
#include <stddef.h>

#include "lib/util.h"
#include "vnmon/flow.h"

/* The networks a classifier knows. */
enum flow_net {
    FLOW_NET_HOST,              /* The hypervisor's own addresses. */
    FLOW_NET_MGMT,              /* Management and platform networks. */
    FLOW_NET_UNDERLAY,          /* Tunnel endpoints' network. */
    FLOW_NET_N
};

struct flow_classifier;

struct flow_classifier *flow_classifier_create(void);
void flow_classifier_destroy(struct flow_classifier *);

/* Adds the networks of 'list' ("10.0.0.0/24, fd00::/64, 192.0.2.1"; a bare
 * address is a /32 or /128) to 'net'.  Returns NULL or a malloc'd error
 * naming the bad item. */
char *flow_classifier_add(struct flow_classifier *, enum flow_net net,
                          const char *list) VNM_WARN_UNUSED;

/* True if 'addr' is in one of the networks of 'net'. */
bool flow_classifier_match(const struct flow_classifier *, enum flow_net net,
                           const struct vnm_addr *addr);

/* True if 'a' names a VM (it has a vm, iface-id or tenant). */
bool flow_class_is_vm(const struct vnm_attribution *a);

/* The class of 'flow', whose src.in and dst.in hold the attribution of each
 * side ('dst.in' may have been filled from the responder's address when it
 * never sent). */
enum vnm_flow_class flow_class_of(const struct flow_classifier *,
                                  const struct vnm_flow *flow);

#endif /* flow-class.h */
