/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `vnmonctl tenant add T [--user NAME] [--password-file FILE]`,
 * `vnmonctl tenant del T [--user NAME]` and `vnmonctl tenant list`:
 * Redis ACL users that can read one tenant's keys and streams, and
 * nothing else but which seconds each host recorded (doc/alerting.md,
 * "Tenant access").
 *
 * A tenant's keys are "vnm:t:ESC:..." (ESC: the tenant escaped by
 * bw_escape(), lib/bw-series.h): its incidents, alert index and stream,
 * bandwidth series and indexes, conntrack summaries.  The user gets read
 * access to those keys (%R~vnm:t:ESC:*) and to the hosts' coverage series
 * (%R~vnm:cov:*: which seconds were recorded), the read-only commands that
 * vnmonctl needs, no write command, no command that lists or counts the
 * whole key space, no Pub/Sub channel.
 *
 * The users vnmonctl made are listed in the hash "vnm:tenants:users"
 * (user name -> tenant), which only the administrator can read.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bw-series.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "tools/ctl-series.h"
#include "tools/vnmonctl.h"

#define USERS_KEY "vnm:tenants:users"

/* The rules after "reset on >PASS resetchannels %R~PATTERN": the hosts'
 * coverage series (which seconds were recorded, no traffic: see
 * lib/bw-series.h), then read-only commands, less those that are
 * dangerous or reach every key. */
static const char *const acl_rules[] = {
    "%R~vnm:cov:*", "-@all", "+@read", "-@dangerous", "-keys", "-scan", "-randomkey",
    "-dbsize", "+ping", "+hello", "+auth", "+select", "+client|setname",
    "+client|getname", "+client|id",
};

bool
ctl_tenant_valid(const char *tenant)
{
    if (!*tenant) {
        fprintf(stderr, "vnmonctl: the tenant name is empty\n");
        return false;
    }
    for (const char *p = tenant; *p; p++) {
        if (!isgraph((unsigned char) *p)) {
            fprintf(stderr, "vnmonctl: tenant name \"%s\": only printable "
                    "characters without spaces are allowed\n", tenant);
            return false;
        }
    }
    return true;
}

/* 'esc' with the glob characters of ACL key patterns backslash-escaped
 * (bw_escape() already percent-encodes them: this is belt and braces). */
static char *
acl_pattern(const char *tenant)
{
    char *esc = bw_escape(tenant);
    char *glob = xmalloc(2 * strlen(esc) + 1);
    char *q = glob;
    char *out;

    for (const char *p = esc; *p; p++) {
        if (strchr("*?[]\\", *p)) {
            *q++ = '\\';
        }
        *q++ = *p;
    }
    *q = '\0';
    out = xasprintf("%%R~vnm:t:%s:*", glob);
    free(glob);
    free(esc);
    return out;
}

/* Fills 'hex' (33 bytes) with 32 random hex digits.  Returns false after
 * printing why. */
static bool
random_password(char hex[33])
{
    unsigned char raw[16];
    FILE *f = fopen("/dev/urandom", "r");
    bool ok = f && fread(raw, 1, sizeof raw, f) == sizeof raw;

    if (f) {
        fclose(f);
    }
    if (!ok) {
        fprintf(stderr, "vnmonctl: /dev/urandom: %s\n", strerror(errno));
        return false;
    }
    for (size_t i = 0; i < sizeof raw; i++) {
        snprintf(&hex[2 * i], 3, "%02x", raw[i]);
    }
    return true;
}

/* Makes the ACL changes survive a restart of Redis: ACL SAVE (an ACL
 * file), else CONFIG REWRITE (users in redis.conf), else a warning. */
static void
persist(struct vnm_redis *r)
{
    json_t *reply = NULL;
    char *acl_err;

    if (!vnm_redis_query(r, &reply, "ACL SAVE")) {
        json_decref(reply);
        return;
    }
    acl_err = xstrdup(json_is_string(reply) ? json_string_value(reply)
                      : "error");
    json_decref(reply);
    reply = NULL;
    if (vnm_redis_query(r, &reply, "CONFIG REWRITE")) {
        fprintf(stderr, "vnmonctl: warning: neither ACL SAVE (%s) nor CONFIG "
                "REWRITE (%s) worked: the change lasts until Redis "
                "restarts\n", acl_err,
                json_is_string(reply) ? json_string_value(reply) : "error");
    }
    json_decref(reply);
    free(acl_err);
}

static int
tenant_add(struct vnm_redis *r, const struct ctl_options *opts,
           const char *tenant, const char *user, const char *password_file)
{
    char hex[33];
    char *pass = password_file ? ctl_read_secret(password_file) : NULL;
    char *pattern = acl_pattern(tenant);
    char *passrule = NULL;
    const char *argv[7 + VNM_ARRAY_SIZE(acl_rules)];
    const char **argvp = argv;
    json_t *reply = NULL;
    int argc = 0;
    int status = 2;

    if (password_file ? !pass : !random_password(hex)) {
        goto out;
    }
    passrule = xasprintf(">%s", pass ? pass : hex);
    argv[argc++] = "ACL";
    argv[argc++] = "SETUSER";
    argv[argc++] = user;
    /* "reset" leaves the user off, without passwords, keys or commands,
     * and with no channel ("resetchannels"). */
    argv[argc++] = "reset";
    argv[argc++] = "on";
    argv[argc++] = passrule;
    argv[argc++] = pattern;
    for (size_t i = 0; i < VNM_ARRAY_SIZE(acl_rules); i++) {
        argv[argc++] = acl_rules[i];
    }
    /* One batch of one command: the password is no format argument. */
    if (vnm_redis_query_batch(r, 1, &argc,
                              (const char *const *const *) &argvp, &reply)
        || !json_is_string(json_array_get(reply, 0))
        || strcmp(json_string_value(json_array_get(reply, 0)), "OK")) {
        ctl_report_error("ACL SETUSER", EIO, json_array_get(reply, 0));
        goto out;
    }
    json_decref(reply);
    if (ctl_query(r, &reply, "HSET "USERS_KEY" %s %s", user, tenant)) {
        goto out;
    }
    persist(r);
    status = 0;
    if (opts->json) {
        json_t *out = json_pack("{s:s, s:s, s:s?}", "tenant", tenant,
                                "user", user, "password",
                                pass ? NULL : hex);

        ctl_print_json(out);
        json_decref(out);
    } else {
        printf("user \"%s\" can now read tenant \"%s\"'s keys (%s)\n", user,
               tenant, pattern + 2);
        if (!pass) {
            printf("password (shown once): %s\n", hex);
        }
        printf("use: vnmonctl --user %s --password-file FILE --tenant %s "
               "alerts\n(FILE holding the password; or set VNM_REDIS_USER "
               "and VNM_REDIS_PASSWORD)\n", user, tenant);
    }

out:
    json_decref(reply);
    free(passrule);
    free(pattern);
    free(pass);
    return status;
}

static int
tenant_del(struct vnm_redis *r, const char *user)
{
    json_t *reply = NULL;
    bool existed;

    if (ctl_query(r, &reply, "ACL DELUSER %s", user)) {
        json_decref(reply);
        return 2;
    }
    existed = json_integer_value(reply) > 0;
    json_decref(reply);
    if (ctl_query(r, &reply, "HDEL "USERS_KEY" %s", user)) {
        json_decref(reply);
        return 2;
    }
    json_decref(reply);
    if (!existed) {
        fprintf(stderr, "vnmonctl: no Redis user \"%s\"\n", user);
        return 1;
    }
    persist(r);
    printf("user \"%s\" deleted\n", user);
    return 0;
}

static int
tenant_list(struct vnm_redis *r, const struct ctl_options *opts)
{
    json_t *reply = NULL, *users, *list = json_array(), *map;
    const char *user;
    json_t *tenant;

    if (ctl_query(r, &reply, "HGETALL "USERS_KEY)
        || ctl_query(r, &users, "ACL USERS")) {
        json_decref(reply);
        json_decref(list);
        return 2;
    }
    /* A user deleted by other means than "tenant del" is shown absent. */
    map = ctl_hash_to_object(reply);
    json_object_foreach (map, user, tenant) {
        bool exists = false;
        json_t *u;
        size_t i;

        json_array_foreach (users, i, u) {
            exists = exists || !strcmp(json_string_value(u), user);
        }
        json_array_append_new(list, json_pack("{s:s, s:O, s:b}", "user", user,
                                              "tenant", tenant, "exists",
                                              exists));
    }
    json_decref(map);
    json_decref(reply);
    json_decref(users);
    if (opts->json) {
        ctl_print_json(list);
    } else {
        json_t *o;
        size_t i;

        printf("%-20s %-20s %s\n", "USER", "TENANT", "ACL USER");
        json_array_foreach (list, i, o) {
            printf("%-20s %-20s %s\n", ctl_get_str(o, "user"),
                   json_string_value(json_object_get(o, "tenant")),
                   json_is_true(json_object_get(o, "exists")) ? "present"
                   : "MISSING");
        }
    }
    json_decref(list);
    return 0;
}

static int
usage_error(void)
{
    fprintf(stderr, "usage: vnmonctl tenant add T [--user NAME] "
            "[--password-file FILE]\n"
            "       vnmonctl tenant del T [--user NAME]\n"
            "       vnmonctl tenant list\n");
    return 2;
}

static int
run_tenant(struct ctl_options *opts, int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "user", required_argument, NULL, 'u' },
        { "password-file", required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    const char *user = NULL, *password_file = NULL;
    const char *verb, *tenant = NULL;
    const char *operands[2];
    size_t n_operands = 0;
    struct vnm_redis *r;
    int status;
    int c;

    if (argc < 2) {
        return usage_error();
    }
    verb = argv[1];
    /* Options may follow the tenant's name: collect operands between
     * them. */
    optind = 2;
    for (;;) {
        c = ctl_getopt(opts, argc, argv, "", longopts);
        if (c == -1) {
            if (optind >= argc || n_operands >= VNM_ARRAY_SIZE(operands)) {
                break;
            }
            operands[n_operands++] = argv[optind++];
        } else if (c == 'u') {
            user = optarg;
        } else if (c == 'p') {
            password_file = optarg;
        } else {
            return usage_error();
        }
    }
    if (optind < argc) {
        return usage_error();
    }
    if (!strcmp(verb, "list")) {
        if (n_operands || user || password_file) {
            return usage_error();
        }
    } else if (!strcmp(verb, "add") || !strcmp(verb, "del")) {
        if (n_operands != 1 || (password_file && !strcmp(verb, "del"))) {
            return usage_error();
        }
        tenant = operands[0];
        if (!ctl_tenant_valid(tenant)) {
            return 2;
        }
        user = user ? user : tenant;
        if (!ctl_tenant_valid(user)) {
            return 2;
        }
    } else {
        return usage_error();
    }

    r = ctl_connect(opts);
    if (!r) {
        return 2;
    }
    status = (!strcmp(verb, "add")
              ? tenant_add(r, opts, tenant, user, password_file)
              : !strcmp(verb, "del") ? tenant_del(r, user)
              : tenant_list(r, opts));
    ctl_disconnect(r);
    return status;
}

const struct ctl_command ctl_tenant_command = {
    "tenant", "tenant add|del|list [T] ...",
    "Redis users that can read only one tenant's data", run_tenant,
};
