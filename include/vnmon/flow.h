/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flow record: what the agent knows about one bidirectional flow, as
 * handed to the collector, published to Redis, and given to detector and
 * enricher plugins.
 *
 * A record is a plain value: fixed-size, no pointers, copyable with
 * memcpy().  Strings live in fixed arrays and are always NUL-terminated
 * (truncated if longer).  The JSON form of a record (lib/flow-codec.c) is
 * documented in doc/flow-record.md.
 */
#ifndef VNM_FLOW_H
#define VNM_FLOW_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VNM_MAX_VLAN_TAGS 4     /* Tags kept per frame, outermost first. */
#define VNM_MAX_LABELS 8        /* Enricher labels per record. */
#define VNM_PORT_NAME_SIZE 16   /* IFNAMSIZ. */
#define VNM_ID_SIZE 64          /* VM uuid, iface-id, tenant. */
#define VNM_PROTO_NAME_SIZE 32  /* nDPI protocol and category names. */
#define VNM_SERVER_NAME_SIZE 128 /* Host name or TLS SNI. */
#define VNM_LABEL_KEY_SIZE 24
#define VNM_LABEL_VALUE_SIZE 64

/* An IPv4 or IPv6 address.  'family' is 0 when there is none (ARP, or
 * non-IP), 4 or 6.  IPv4 uses the first 4 bytes of 'a'. */
struct vnm_addr {
    uint8_t family;             /* 0, 4 or 6. */
    uint8_t a[16];              /* Network byte order. */
};

/* One 802.1Q/802.1ad tag. */
struct vnm_vlan_tag {
    uint16_t tpid;              /* 0x8100, 0x88a8 or 0x9100. */
    uint16_t tci;               /* PCP, DEI and VID, host byte order. */
};

/* Where a frame entered the virtual switch, and whose port that is. */
struct vnm_attribution {
    char port[VNM_PORT_NAME_SIZE]; /* OVS interface name, "" if unknown. */
    int32_t ofport;             /* OpenFlow port number, -1 if unknown. */
    char iface_id[VNM_ID_SIZE]; /* external_ids:iface-id. */
    char vm[VNM_ID_SIZE];       /* external_ids:vm-uuid or vm-id. */
    char tenant[VNM_ID_SIZE];   /* external_ids:vnmon-tenant. */
};

/* One direction of a flow: what the endpoint sent. */
struct vnm_flow_end {
    struct vnm_addr ip;         /* Source address of this direction. */
    uint16_t port;              /* L4 source port (or ICMP id), host order. */
    uint8_t mac[6];             /* Source MAC of this direction. */
    uint8_t tcp_flags;          /* OR of the TCP flags sent. */
    uint64_t packets;           /* Frames sent in this direction. */
    uint64_t bytes;             /* Their size on the wire (L2). */
    struct vnm_attribution in;  /* Where this direction's frames entered. */
};

/* Where a flow sits relative to VMs, tenants and the host. */
enum vnm_flow_class {
    VNM_FLOW_UNKNOWN = 0,
    VNM_FLOW_VM_VM_SAME_TENANT,
    VNM_FLOW_VM_VM_CROSS_TENANT,
    VNM_FLOW_VM_HOST,
    VNM_FLOW_HOST_VM,
    VNM_FLOW_VM_EXTERNAL,
    VNM_FLOW_EXTERNAL_VM,
    VNM_FLOW_UNDERLAY,
};

/* Why a record was produced. */
enum vnm_flow_event {
    VNM_FLOW_UPDATE = 0,        /* Periodic report of a live flow. */
    VNM_FLOW_END_IDLE,          /* Ended: idle timeout. */
    VNM_FLOW_END_TCP,           /* Ended: TCP FIN or RST seen both ways. */
    VNM_FLOW_END_ACTIVE,        /* Ended: active timeout (flow restarts). */
    VNM_FLOW_END_EVICTED,       /* Ended: evicted by the table's cap. */
    VNM_FLOW_END_SHUTDOWN,      /* Ended: the agent stopped. */
};

/* A label added by an enricher plugin, e.g. "dst_country" = "FR". */
struct vnm_label {
    char key[VNM_LABEL_KEY_SIZE];
    char value[VNM_LABEL_VALUE_SIZE];
};

/* The labels of one record. */
struct vnm_labels {
    uint32_t n;                 /* Labels in use. */
    struct vnm_label label[VNM_MAX_LABELS];
};

/* What one side of a flow sent of the protocols that vouch for addresses
 * (ARP, IPv6 Neighbor Discovery, DHCP), for the detectors of forged
 * addresses and rogue servers.  Appended in ABI 1.1.  Zero if the side sent
 * none of them. */
enum {
    VNM_ARP_REQUEST = 1 << 0,   /* Sent an ARP request... */
    VNM_ARP_REPLY = 1 << 1,     /* ...a reply... */
    VNM_ARP_GRATUITOUS = 1 << 2, /* ...one whose sender IP = target IP... */
    VNM_ARP_SHA_MISMATCH = 1 << 3, /* ...one whose sender MAC was not its
                                    * Ethernet source. */
};
enum {
    VNM_ND_RS = 1 << 0,         /* ICMPv6 133 router solicitation sent. */
    VNM_ND_RA = 1 << 1,         /* 134 router advertisement. */
    VNM_ND_NS = 1 << 2,         /* 135 neighbor solicitation. */
    VNM_ND_NA = 1 << 3,         /* 136 neighbor advertisement. */
    VNM_ND_REDIRECT = 1 << 4,   /* 137 redirect. */
};
struct vnm_flow_ctl {
    uint8_t arp;                /* VNM_ARP_* seen in what it sent. */
    uint8_t arp_sha[6];         /* Sender MAC of its first ARP frame. */
    uint8_t nd;                 /* VNM_ND_* seen in what it sent. */
    uint8_t nd_flags;           /* First NA's R/S/O bits (0xe0), or first
                                 * RA's M/O bits (0xc0). */
    uint8_t has_nd_lladdr;      /* 'nd_lladdr' is valid. */
    uint8_t nd_lladdr[6];       /* Link-layer address option of its first ND
                                 * frame that had one: source (RS, RA, NS)
                                 * or target (NA). */
    uint8_t nd_target[16];      /* Target of its first NS, NA or redirect. */
    uint8_t has_icmp;           /* 'icmp_type'/'icmp_code' are valid. */
    uint8_t icmp_type;          /* Of its first ICMP/ICMPv6 message. */
    uint8_t icmp_code;
    uint8_t dhcpv6;             /* 'dhcp_types' are DHCPv6 msg-types. */
    uint32_t dhcp_types;        /* Bit n set: DHCP message type n (option
                                 * 53: 2 OFFER, 5 ACK, 6 NAK...) or DHCPv6
                                 * msg-type n (2 ADVERTISE, 7 REPLY...)
                                 * sent. */
};

/* The carrier of a tunnelled flow ('tunnel_type' != 0): outer addresses of
 * its first frame.  Appended in ABI 1.1. */
struct vnm_flow_outer {
    struct vnm_addr src_ip, dst_ip; /* Outer IP, family 4 or 6. */
    uint16_t src_port, dst_port;    /* Outer UDP ports (0 for GRE, IP in
                                     * IP). */
};

/* One bidirectional flow.  'src' is the side that sent first (the
 * initiator), 'dst' the other; a direction with no frames yet has
 * packets == 0.
 *
 * Flows of ARP, ICMPv6 Neighbor Discovery (133..137) and DHCP/DHCPv6 (UDP
 * ports 67, 68, 546, 547) are one-way, one per sender and ingress port:
 * the sender is 'src', 'dst' stays empty (packets == 0), so that a forged
 * frame never merges into a genuine flow.  An ARP record carries the
 * sender and target protocol addresses as 'src.ip' and 'dst.ip' (family
 * 4). */
struct vnm_flow {
    uint64_t id;                /* Unique per agent run. */
    uint64_t first_ms;          /* First frame, ms since the epoch. */
    uint64_t last_ms;           /* Last frame, ms since the epoch. */
    enum vnm_flow_event event;  /* Why this record was produced. */
    enum vnm_flow_class class;  /* See enum vnm_flow_class. */

    uint16_t eth_type;          /* Innermost EtherType (0x0800, 0x86dd...). */
    uint8_t ip_proto;           /* IP protocol, 0 if not IP. */
    uint8_t n_vlan_tags;        /* Valid entries of 'vlan'. */
    struct vnm_vlan_tag vlan[VNM_MAX_VLAN_TAGS]; /* As sent, outermost first. */
    uint32_t tunnel_type;       /* 0 none, else 1 VXLAN, 2 Geneve, 3 GRE,
                                 * 4 IP in IP. */
    uint32_t vni;               /* VXLAN/Geneve VNI or GRE key. */

    struct vnm_flow_end src;    /* Initiator -> responder. */
    struct vnm_flow_end dst;    /* Responder -> initiator. */

    char app[VNM_PROTO_NAME_SIZE];      /* nDPI application protocol. */
    char master[VNM_PROTO_NAME_SIZE];   /* nDPI master protocol, or "". */
    char category[VNM_PROTO_NAME_SIZE]; /* nDPI category. */
    uint8_t confidence;         /* nDPI confidence (enum value). */
    uint16_t risk_score;        /* nDPI cumulative risk score. */
    uint64_t risks;             /* nDPI risk bitmap. */
    char server_name[VNM_SERVER_NAME_SIZE]; /* Host name or TLS SNI. */

    struct vnm_labels labels;   /* Added by enrichers. */

    /* Appended in ABI 1.1. */
    struct vnm_flow_ctl src_ctl; /* Address protocols 'src' sent. */
    struct vnm_flow_ctl dst_ctl; /* Address protocols 'dst' sent. */
    struct vnm_flow_outer outer; /* Tunnel carrier, if 'tunnel_type'. */
    char host[VNM_ID_SIZE];     /* Hypervisor (host id) that saw the flow:
                                 * "" in the agent, set by the analyzer from
                                 * the record's "host" member. */
};

/* Adds 'key' = 'value' to 'labels', truncating both to their arrays.
 * Returns false, adding nothing, if 'labels' is full. */
static inline bool
vnm_labels_add(struct vnm_labels *labels, const char *key, const char *value)
{
    struct vnm_label *l;
    size_t i;

    if (labels->n >= VNM_MAX_LABELS) {
        return false;
    }
    l = &labels->label[labels->n++];
    for (i = 0; i < sizeof l->key - 1 && key[i]; i++) {
        l->key[i] = key[i];
    }
    l->key[i] = '\0';
    for (i = 0; i < sizeof l->value - 1 && value[i]; i++) {
        l->value[i] = value[i];
    }
    l->value[i] = '\0';
    return true;
}

#ifdef __cplusplus
}
#endif

#endif /* flow.h */
