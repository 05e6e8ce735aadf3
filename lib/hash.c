/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keyed hashing: see hash.h.
 */
#include <config.h>

#include "lib/hash.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lib/log.h"
#include "lib/util.h"

VNM_LOG_MODULE(hash);

static inline uint64_t
rotl64(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIP_ROUND(V0, V1, V2, V3)                                       \
    do {                                                                \
        V0 += V1; V1 = rotl64(V1, 13); V1 ^= V0; V0 = rotl64(V0, 32);  \
        V2 += V3; V3 = rotl64(V3, 16); V3 ^= V2;                        \
        V0 += V3; V3 = rotl64(V3, 21); V3 ^= V0;                        \
        V2 += V1; V1 = rotl64(V1, 17); V1 ^= V2; V2 = rotl64(V2, 32);  \
    } while (0)

uint64_t
vnm_siphash13(const uint64_t key[2], const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t v0 = key[0] ^ 0x736f6d6570736575ULL;
    uint64_t v1 = key[1] ^ 0x646f72616e646f6dULL;
    uint64_t v2 = key[0] ^ 0x6c7967656e657261ULL;
    uint64_t v3 = key[1] ^ 0x7465646279746573ULL;
    uint64_t b = (uint64_t) len << 56;
    uint64_t m;
    size_t i;

    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&m, p + i, 8);
        v3 ^= m;
        SIP_ROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    for (size_t j = 0; i + j < len; j++) {
        b |= (uint64_t) p[i + j] << (8 * j);
    }
    v3 ^= b;
    SIP_ROUND(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    SIP_ROUND(v0, v1, v2, v3);
    SIP_ROUND(v0, v1, v2, v3);
    SIP_ROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

void
vnm_hash_random_key(uint64_t key[2], const char *who)
{
    ssize_t n;

    do {
        n = getrandom(key, 2 * sizeof key[0], 0);
    } while (n < 0 && errno == EINTR);
    if (n != 2 * sizeof key[0]) {
        struct timespec ts;

        VNM_WARN("%s: getrandom failed, hashing with a weaker seed (%s)",
                 who, n < 0 ? strerror(errno) : "short read");
        clock_gettime(CLOCK_MONOTONIC, &ts);
        key[0] = ((uint64_t) ts.tv_sec << 32) ^ (uint64_t) ts.tv_nsec
                 ^ (uint64_t) (uintptr_t) key;
        key[1] = vnm_time_wall_ms() ^ rotl64(key[0], 29);
    }
}
