/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers shared by the daemons: aborting allocation, string
 * formatting into the heap, clocks, and the vnm_assert() that stays on in
 * release builds.  Plugins do not use this file (they check libc instead).
 */
#ifndef VNM_UTIL_H
#define VNM_UTIL_H 1

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNM_PRINTF(FMT, ARG) __attribute__((format(printf, FMT, ARG)))
#define VNM_WARN_UNUSED __attribute__((warn_unused_result))
#define VNM_NORETURN __attribute__((noreturn))
#define VNM_ARRAY_SIZE(A) (sizeof (A) / sizeof (A)[0])

/* Aborts with a message naming the file and line if 'COND' is false.  Always
 * compiled in. */
#define vnm_assert(COND)                                                \
    ((COND) ? (void) 0 : vnm_assert_failure(__FILE__, __LINE__, #COND))

/* Reports a failed vnm_assert() and aborts. */
VNM_NORETURN void vnm_assert_failure(const char *file, int line,
                                     const char *cond);

/* Prints "PROGRAM: message" to stderr and exits with status 1. */
VNM_NORETURN void vnm_fatal(const char *format, ...) VNM_PRINTF(1, 2);

/* malloc() and friends that abort on failure (daemons only). */
void *xmalloc(size_t);
void *xzalloc(size_t);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
/* Returns a malloc'd string formatted as printf() would. */
char *xasprintf(const char *format, ...) VNM_PRINTF(1, 2);
char *xvasprintf(const char *format, va_list) VNM_PRINTF(1, 0);

/* Copies 'src' into 'dst' of 'size' bytes, truncating, always terminated
 * (when 'size' > 0).  Returns strlen(src). */
size_t vnm_strlcpy(char *dst, const char *src, size_t size);

/* Milliseconds since the Unix epoch. */
uint64_t vnm_time_wall_ms(void);
/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t vnm_time_mono_ms(void);

/* Formats 'ms' since the epoch as "2026-11-21T09:14:14.123Z" into 'buf'
 * (at least 25 bytes).  Returns 'buf'. */
char *vnm_format_time(uint64_t ms, char *buf, size_t size);

/* This machine's host id: $VNM_HOST_ID if set, else the host name. Static
 * storage. */
const char *vnm_default_host_id(void);

/* The program's short name (set by vnm_set_program_name()). */
extern const char *vnm_program_name;
/* Sets vnm_program_name from argv[0]. */
void vnm_set_program_name(const char *argv0);

#endif /* util.h */
