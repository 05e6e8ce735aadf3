/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Named event counters, as OVS's coverage counters: each .c defines what it
 * counts, and the daemon publishes every counter with its status.
 *
 *     VNM_COUNTER_DEFINE(redis_reconnects);
 *     ...
 *     VNM_COUNTER_INC(redis_reconnects);
 *
 * Increments are relaxed atomics: cheap, but shared between threads, so
 * per-packet paths keep per-thread statistics instead.
 */
#ifndef VNM_COUNTER_H
#define VNM_COUNTER_H 1

#include <stdatomic.h>
#include <stdint.h>

/* One counter. */
struct vnm_counter {
    const char *name;           /* [a-z0-9_]+, static storage. */
    atomic_uint_least64_t value;
    struct vnm_counter *next;   /* In the list of all counters. */
};

#define VNM_COUNTER_DEFINE(NAME)                                          \
    static struct vnm_counter vnm_counter_##NAME = { #NAME, 0, 0 };       \
    static void vnm_counter_init_##NAME(void) __attribute__((constructor)); \
    static void vnm_counter_init_##NAME(void)                             \
    {                                                                     \
        vnm_counter_register(&vnm_counter_##NAME);                        \
    }

#define VNM_COUNTER_ADD(NAME, N)                                          \
    atomic_fetch_add_explicit(&vnm_counter_##NAME.value, (N),             \
                              memory_order_relaxed)
#define VNM_COUNTER_INC(NAME) VNM_COUNTER_ADD(NAME, 1)

/* Adds 'counter' to the list (called by VNM_COUNTER_DEFINE()). */
void vnm_counter_register(struct vnm_counter *counter);
/* The first counter of the list; follow ->next for the others. */
struct vnm_counter *vnm_counter_first(void);
/* The value of 'counter'. */
uint64_t vnm_counter_read(const struct vnm_counter *counter);

#endif /* counter.h */
