/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Real receivers on loopback for the unit tests of network sinks
 * (tests/unit/test-sink-webhook.c, test-sink-email.c): a Python 3 script,
 * run with Debian's /usr/bin/python3 (which has python3-aiosmtpd), that
 * listens on 127.0.0.1, writes the port it got to DIR/port and records
 * what it receives as files in DIR, a fresh directory under $TMPDIR (or
 * /tmp).
 *
 * The script gets DIR as its first argument.  The test starts it with
 * py_receiver_start(), reads DIR with py_receiver_read(), and stops it with
 * py_receiver_stop(), which kills it (by pid), removes every file in DIR
 * and DIR itself.  A cmocka test that fails in between leaves the process
 * to the group teardown: tests keep one receiver per group.
 */
#ifndef VNM_TESTS_PY_RECEIVER_H
#define VNM_TESTS_PY_RECEIVER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A running receiver. */
struct py_receiver {
    pid_t pid;                  /* The python3 process, or 0 if stopped. */
    char *dir;                  /* Its directory, malloc'd. */
    int port;                   /* The TCP port it listens on. */
};

/* Starts 'script' with a fresh directory named after 'name' and waits (up
 * to 20 s) until it has written its port.  Fails the current test if it
 * cannot. */
void py_receiver_start(struct py_receiver *r, const char *name,
                       const char *script);

/* Kills the receiver (SIGKILL) and waits for it, but keeps its directory
 * and port: a sink then finds the port closed.  Idempotent. */
void py_receiver_kill(struct py_receiver *r);

/* Kills the receiver if needed and removes its directory.  Idempotent. */
void py_receiver_stop(struct py_receiver *r);

/* Returns the contents of file 'file' of the receiver's directory,
 * malloc'd and NUL-terminated, or null if it does not exist. */
char *py_receiver_read(const struct py_receiver *r, const char *file);

/* Writes 'text' to file 'file' of the receiver's directory (atomically:
 * written aside, then renamed). */
void py_receiver_write(const struct py_receiver *r, const char *file,
                       const char *text);

/* Returns the number of files of the receiver's directory whose name
 * starts with 'prefix'. */
size_t py_receiver_count(const struct py_receiver *r, const char *prefix);

#endif /* py-receiver.h */
