/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Aborting allocation, clocks and other helpers declared in util.h.
 */
#include <config.h>

#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *vnm_program_name = "vnmon";

void
vnm_set_program_name(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');

    vnm_program_name = slash ? slash + 1 : argv0;
}

void
vnm_assert_failure(const char *file, int line, const char *cond)
{
    fprintf(stderr, "%s: %s:%d: assertion %s failed\n", vnm_program_name,
            file, line, cond);
    abort();
}

void
vnm_fatal(const char *format, ...)
{
    va_list args;

    fprintf(stderr, "%s: ", vnm_program_name);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    exit(1);
}

static VNM_NORETURN void
out_of_memory(void)
{
    fprintf(stderr, "%s: out of memory\n", vnm_program_name);
    abort();
}

void *
xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
xzalloc(size_t size)
{
    return xcalloc(1, size);
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
xvasprintf(const char *format, va_list args)
{
    va_list args2;
    char *s;
    int n;

    va_copy(args2, args);
    n = vsnprintf(NULL, 0, format, args);
    if (n < 0) {
        vnm_fatal("bad format string \"%s\"", format);
    }
    s = xmalloc((size_t) n + 1);
    vsnprintf(s, (size_t) n + 1, format, args2);
    va_end(args2);
    return s;
}

char *
xasprintf(const char *format, ...)
{
    va_list args;
    char *s;

    va_start(args, format);
    s = xvasprintf(format, args);
    va_end(args);
    return s;
}

size_t
vnm_strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);

    if (size) {
        size_t n = len < size - 1 ? len : size - 1;

        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

static uint64_t
clock_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

uint64_t
vnm_time_wall_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

uint64_t
vnm_time_mono_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

char *
vnm_format_time(uint64_t ms, char *buf, size_t size)
{
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int) (ms % 1000));
    return buf;
}

const char *
vnm_default_host_id(void)
{
    static char host[256];
    const char *env = getenv("VNM_HOST_ID");

    if (env && *env) {
        return env;
    }
    if (!host[0] && gethostname(host, sizeof host - 1)) {
        vnm_strlcpy(host, "localhost", sizeof host);
    }
    return host;
}
