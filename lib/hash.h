/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keyed hashing for tables whose keys outsiders choose (flows, connections,
 * addresses): SipHash-1-3 (Aumasson and Bernstein) with a random key, so
 * that no one can aim frames at one hash chain.
 */
#ifndef VNM_HASH_H
#define VNM_HASH_H 1

#include <stddef.h>
#include <stdint.h>

/* SipHash-1-3 of the 'len' bytes at 'data' under 'key', 64-bit output. */
uint64_t vnm_siphash13(const uint64_t key[2], const void *data, size_t len);

/* Fills 'key' from getrandom(), or, if that fails, with a weaker seed
 * (logged at WARN once per call, naming 'who'). */
void vnm_hash_random_key(uint64_t key[2], const char *who);

#endif /* hash.h */
