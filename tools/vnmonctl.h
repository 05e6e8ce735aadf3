/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vnmonctl's commands: each lives in its own file (tools/ctl-*.c) and is
 * listed in vnmonctl.c's command table.  Common options (-r, -c, -j, -H)
 * are accepted before and after the command name; a command parses its
 * own options with ctl_getopt(), which handles the common ones.
 */
#ifndef VNM_VNMONCTL_H
#define VNM_VNMONCTL_H 1

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;
struct vnm_redis;

/* Options every command accepts. */
struct ctl_options {
    const char *redis;          /* -r ADDR */
    const char *config;         /* -c FILE */
    const char *host;           /* -H HOST: only that host's data. */
    bool json;                  /* -j: JSON on stdout. */
    const char *user;           /* --user: Redis ACL user, or null. */
    const char *password;       /* --password, or null. */
    const char *password_file;  /* --password-file, or null. */
    const char *tenant;         /* --tenant: only that tenant's data, read
                                 * from its keys only. */
};

/* One command.  'run' gets the command's arguments (argv[0] is the
 * command's name) and returns the exit status: 0 success, 1 "not
 * healthy"/"not found" as the command documents, 2 usage or Redis error. */
struct ctl_command {
    const char *name;
    const char *synopsis;       /* e.g. "bw [--since D] KIND ID". */
    const char *summary;        /* One line. */
    int (*run)(struct ctl_options *, int argc, char *argv[]);
};

/* Parses 'argc'/'argv' like getopt_long() with 'shortopts'/'longopts'
 * (the command's own; may be "" and a list with only the terminator),
 * handling the common options into 'opts' itself.  Returns the next
 * option character of the command's own, -1 at the end (optind then
 * indexes the first operand), or '?' after printing a usage error. */
int ctl_getopt(struct ctl_options *opts, int argc, char *argv[],
               const char *shortopts, const struct option *longopts);

/* Connects to Redis as the options say; on failure prints why and returns
 * NULL (the command then returns 2).  Freed by ctl_disconnect(). */
struct vnm_redis *ctl_connect(const struct ctl_options *);
void ctl_disconnect(struct vnm_redis *);

/* Runs a query, printing "vnmonctl: WHAT failed (reason)" on error
 * (ctl_report_error()).  Returns 0 or an errno value. */
int ctl_query(struct vnm_redis *, struct json_t **replyp, const char *format,
              ...) __attribute__((format(printf, 3, 4)));

/* True if 'tenant' is a valid tenant name (non-empty, printable ASCII,
 * no spaces); else prints why and returns false (ctl-tenant.c). */
bool ctl_tenant_valid(const char *tenant);
/* Reads a password from the first line of 'file'.  Returns it malloc'd,
 * or NULL after printing why. */
char *ctl_read_secret(const char *file);

/* Helpers shared by commands. */
struct json_t *ctl_hash_to_object(const struct json_t *hgetall_reply);
long long ctl_get_int(const struct json_t *obj, const char *key);
const char *ctl_get_str(const struct json_t *obj, const char *key);
void ctl_format_duration(uint64_t ms, char *buf, size_t size);
/* Prints 'j' as indented JSON with sorted keys and a newline. */
void ctl_print_json(const struct json_t *j);
/* Parses a duration "90", "90s", "15m", "1h", "7d" into seconds.  Returns
 * false if malformed. */
bool ctl_parse_duration(const char *s, uint64_t *seconds);

/* Every command (vnmonctl.c's table). */
extern const struct ctl_command ctl_status_command;
extern const struct ctl_command ctl_inventory_command;
extern const struct ctl_command ctl_topology_command;
extern const struct ctl_command ctl_report_command;
extern const struct ctl_command ctl_top_command;
extern const struct ctl_command ctl_bw_command;
extern const struct ctl_command ctl_peak_command;
extern const struct ctl_command ctl_capacity_command;
extern const struct ctl_command ctl_conns_command;
extern const struct ctl_command ctl_alerts_command;
extern const struct ctl_command ctl_tenant_command;
extern const struct ctl_command ctl_quarantine_command;
extern const struct ctl_command ctl_release_command;

#endif /* vnmonctl.h */
