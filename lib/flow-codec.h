/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON form of a flow record (struct vnm_flow), documented in
 * doc/flow-record.md: what `vnmon-agent --read` prints, what the agent
 * publishes, and what the analyzer parses back.  Encoding and decoding are
 * exact inverses for every field.
 */
#ifndef VNM_FLOW_CODEC_H
#define VNM_FLOW_CODEC_H 1

#include <stddef.h>
#include <string.h>

#include "lib/util.h"
#include "vnmon/flow.h"

struct json_t;

/* Returns 'flow' as a new JSON object (caller owns it).  "host" is
 * 'host_id', or if that is null the record's own 'host', or absent if that
 * is "" too.  "outer" is there for tunnelled flows only, "src_ctl" and
 * "dst_ctl" only when they say something (doc/flow-record.md). */
struct json_t *flow_to_json(const struct vnm_flow *flow, const char *host_id);

/* Appends 'flow' as one compact JSON line (with '\n') to 'buf' of 'size'
 * bytes at '*len', growing it with xrealloc(): the document flow_to_json()
 * gives, members in the same order.  For writers of many records. */
void flow_to_jsonl(const struct vnm_flow *flow, const char *host_id,
                   char **buf, size_t *size, size_t *len);

/* Parses 'json' into '*flow' (all of it: "host" too, cut to its array on a
 * UTF-8 character boundary).  Returns NULL or a malloc'd error naming the
 * bad member. */
char *flow_from_json(const struct json_t *json, struct vnm_flow *flow)
    VNM_WARN_UNUSED;

/* "update", "end-idle", "end-tcp", "end-active", "end-evicted",
 * "end-shutdown"; and back (-1 if unknown). */
const char *flow_event_name(enum vnm_flow_event);
int flow_event_from_name(const char *);

/* "vm-vm-same-tenant", "vm-vm-cross-tenant", "vm-host", "host-vm",
 * "vm-external", "external-vm", "underlay" or "unknown"; and back (-1 if
 * unknown). */
const char *flow_class_name(enum vnm_flow_class);
int flow_class_from_name(const char *);

/* Formats 'a' (family 4 or 6) into 'buf' (at least 46 bytes); "" if no
 * family.  Returns 'buf'. */
char *vnm_addr_format(const struct vnm_addr *a, char *buf, size_t size);
/* Parses an IPv4 or IPv6 address.  Returns false if malformed. */
bool vnm_addr_parse(const char *s, struct vnm_addr *a);

/* Formats 'mac' as "aa:bb:cc:dd:ee:ff" into 'buf'. */
void vnm_mac_format(const uint8_t mac[6], char buf[18]);
/* Parses "aa:bb:cc:dd:ee:ff" (hex digits, either case).  Returns false if
 * malformed. */
bool vnm_mac_parse(const char *s, uint8_t mac[6]);

/* The bytes of 'a' that hold its address: 4, 16, or 0 without family. */
static inline size_t
vnm_addr_size(const struct vnm_addr *a)
{
    return a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
}

/* True if 'a' and 'b' are the same address (bytes past the address's size
 * are ignored). */
static inline bool
vnm_addr_equal(const struct vnm_addr *a, const struct vnm_addr *b)
{
    return (a->family == b->family
            && !memcmp(a->a, b->a, vnm_addr_size(a)));
}

#endif /* flow-codec.h */
