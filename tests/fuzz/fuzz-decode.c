/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the packet decoder (ovs-ext/decode.c): each input is
 * one Ethernet frame.  It is decoded twice, as a whole frame and as the
 * snapped head of a longer one, and each result is formatted with
 * decode_format() into buffers of several sizes.  Besides the sanitizers,
 * the target checks the decoder's promises: offsets and lengths within the
 * captured bytes, a known error reason, and a formatted line that fits its
 * buffer and is terminated.
 *
 * Built by tests/fuzz/decode.mk; seeded from ../shared/pcaps by
 * tests/fuzz/pcap-to-corpus.py.
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ovs-ext/decode.h"

/* libFuzzer's entry point. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts (a crash libFuzzer reports) unless 'cond'. */
static void
check(int cond)
{
    if (!cond) {
        abort();
    }
}

static void
check_decoded(const struct decoded *d, uint32_t caplen)
{
    uint32_t cap = caplen < 65535 ? caplen : 65535;

    check(d->error < DECODE_N_ERRORS);
    check(d->caplen == caplen);
    check(d->wire_len >= caplen);
    check(d->l3 <= cap);
    check(d->l4 <= cap);
    check((uint32_t) d->l3 + d->l3_len <= cap);
    check((uint32_t) d->payload + d->payload_len <= cap);
    check(d->n_vlan <= VNM_MAX_VLAN_TAGS);
    check(d->outer.n_vlan <= VNM_MAX_VLAN_TAGS);
    check(d->tunnel == DECODE_TUNNEL_NONE || d->tunnel == DECODE_TUNNEL_VXLAN
          || d->tunnel == DECODE_TUNNEL_GENEVE
          || d->tunnel == DECODE_TUNNEL_GRE
          || d->tunnel == DECODE_TUNNEL_IPIP);
    check(d->l4 == 0 || d->l4 >= d->l3);
    check(d->src_ip.family == 0 || d->src_ip.family == 4
          || d->src_ip.family == 6);
    check(decode_error_name(d->error) != NULL);
}

static void
check_format(const struct decoded *d)
{
    static const unsigned sizes[] = { 1, 2, 17, 80, 512 };
    char buf[512 + 8];

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned size = sizes[i];

        memset(buf, 'x', sizeof buf);
        check(decode_format(d, buf, size) == buf);
        check(memchr(buf, '\0', size) != NULL);
        check(buf[size] == 'x');
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t caplen = size > UINT32_MAX / 2 ? UINT32_MAX / 2 : size;
    struct decoded d;
    bool ok;

    ok = decode_frame(data, caplen, caplen, &d);
    check(ok == (d.error == DECODE_OK));
    check_decoded(&d, caplen);
    check_format(&d);

    ok = decode_frame(data, caplen, caplen + 1500, &d);
    check(ok == (d.error == DECODE_OK));
    check_decoded(&d, caplen);
    check_format(&d);
    return 0;
}
