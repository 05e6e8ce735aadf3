/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The list of counters: see counter.h.  Registration happens in
 * constructors, before main() and before any thread exists.
 */
#include <config.h>

#include "lib/counter.h"

#include <stddef.h>

static struct vnm_counter *counters;

void
vnm_counter_register(struct vnm_counter *counter)
{
    counter->next = counters;
    counters = counter;
}

struct vnm_counter *
vnm_counter_first(void)
{
    return counters;
}

uint64_t
vnm_counter_read(const struct vnm_counter *counter)
{
    return atomic_load_explicit(&counter->value, memory_order_relaxed);
}
