/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OVS flow tap: see tap-flow.h.
 *
 * tap_flow_run() reconciles, in this order: the monitor port's netdev
 * (created with ovs-vsctl if missing, as an access port of VLAN 4095; IPv6
 * disabled before it is ever up),
 * its OpenFlow port number and no-flood config (ovs-ofctl dump-ports-desc,
 * OpenFlow 1.0, the only version with OFPPC_NO_FLOOD), the rules (ovs-ofctl
 * dump-flows of the tap's cookie, compared by match key and actions with
 * the wanted set; the differences fixed in one add-flows: "add" replaces a
 * rule with the same match in place, "delete_strict" with the cookie removes
 * only the tap's own), the port brought up (after its drop rule exists), and
 * the rings (re)bound to its current ifindex.
 */
#include <config.h>

#include "ovs-ext/tap-flow.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

VNM_LOG_MODULE(tap_flow);

extern char **environ;

/* Most output kept from one command. */
#define EXEC_MAX_OUTPUT (256u << 20)

/* Automatic priority: table 0 is scanned this often for rules that would
 * shadow the tap's. */
#define SCAN_INTERVAL_MS 30000

/* After running ovs-vsctl add-port: how long to wait for the netdev, and
 * how long before running it again. */
#define ADD_PORT_WAIT_MS 1000
#define ADD_PORT_RETRY_MS 2000

/* Failures talking to OVS: a WARN once they last this long; the first
 * reminder after OUTAGE_REMINDER_MS, then doubling up to an hour. */
#define OUTAGE_GRACE_MS 5000
#define OUTAGE_REMINDER_MS 60000
#define OUTAGE_REMINDER_MAX_MS 3600000

/* ------------------------------------------------------ dynamic string */

static void
ds_reserve(struct ds *ds, size_t n)
{
    if (ds->len + n + 1 > ds->cap) {
        ds->cap = 2 * ds->cap > ds->len + n + 1 ? 2 * ds->cap
                                                 : ds->len + n + 1;
        ds->s = xrealloc(ds->s, ds->cap);
    }
}

static void
ds_put_buf(struct ds *ds, const char *buf, size_t n)
{
    ds_reserve(ds, n);
    memcpy(ds->s + ds->len, buf, n);
    ds->len += n;
    ds->s[ds->len] = '\0';
}

void
ds_put(struct ds *ds, const char *format, ...)
{
    va_list args;
    int n;

    va_start(args, format);
    n = vsnprintf(NULL, 0, format, args);
    va_end(args);
    vnm_assert(n >= 0);
    ds_reserve(ds, n);
    va_start(args, format);
    vsnprintf(ds->s + ds->len, n + 1, format, args);
    va_end(args);
    ds->len += n;
}

char *
ds_steal(struct ds *ds)
{
    char *s = ds->s ? ds->s : xstrdup("");

    ds->s = NULL;
    ds->len = ds->cap = 0;
    return s;
}

/* --------------------------------------------------------------- exec */

/* Reads what is available on '*fd' into 'ds'; closes it at EOF. */
static void
exec_read(int *fd, struct ds *ds)
{
    char buf[65536];
    ssize_t n = read(*fd, buf, sizeof buf);

    if (n > 0) {
        if (ds->len < EXEC_MAX_OUTPUT) {
            ds_put_buf(ds, buf, n);
        }
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(*fd);
        *fd = -1;
    }
}

static void
close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

int
tap_flow_exec(char *const argv[], const char *input, int timeout_ms,
              char **outp, char **errp)
{
    int in_fds[2] = { -1, -1 }, out_fds[2] = { -1, -1 };
    int err_fds[2] = { -1, -1 };
    struct ds out = DS_EMPTY, err = DS_EMPTY;
    size_t in_len = input ? strlen(input) : 0, in_off = 0;
    uint64_t deadline = vnm_time_mono_ms() + (timeout_ms > 0 ? timeout_ms
                                                             : 0);
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t mask, def;
    bool killed = false;
    int error, status;
    pid_t pid;

    if (outp) {
        *outp = NULL;
    }
    if (errp) {
        *errp = NULL;
    }

    /* A socket for stdin: send() with MSG_NOSIGNAL cannot raise SIGPIPE. */
    if ((input && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                             in_fds))
        || pipe2(out_fds, O_CLOEXEC) || pipe2(err_fds, O_CLOEXEC)) {
        error = errno;
        goto out;
    }

    posix_spawn_file_actions_init(&actions);
    if (input) {
        posix_spawn_file_actions_adddup2(&actions, in_fds[1], 0);
    } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY,
                                         0);
    }
    posix_spawn_file_actions_adddup2(&actions, out_fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_fds[1], 2);
    posix_spawnattr_init(&attr);
    sigemptyset(&mask);
    posix_spawnattr_setsigmask(&attr, &mask);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGCHLD);
    sigaddset(&def, SIGHUP);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    error = posix_spawnp(&pid, argv[0], &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close_fd(&in_fds[1]);
    close_fd(&out_fds[1]);
    close_fd(&err_fds[1]);
    if (error) {
        goto out;
    }
    if (in_fds[0] >= 0 && !in_len) {
        close_fd(&in_fds[0]);
    }

    while (out_fds[0] >= 0 || err_fds[0] >= 0 || in_fds[0] >= 0) {
        struct pollfd pfds[3];
        uint64_t now = vnm_time_mono_ms();
        int n = 0, i;

        if (now >= deadline) {
            kill(pid, SIGKILL);
            killed = true;
            break;
        }
        if (out_fds[0] >= 0) {
            pfds[n++] = (struct pollfd) { .fd = out_fds[0], .events = POLLIN };
        }
        if (err_fds[0] >= 0) {
            pfds[n++] = (struct pollfd) { .fd = err_fds[0], .events = POLLIN };
        }
        if (in_fds[0] >= 0) {
            pfds[n++] = (struct pollfd) { .fd = in_fds[0],
                                          .events = POLLOUT };
        }
        if (poll(pfds, n, deadline - now) < 0) {
            if (errno == EINTR) {
                continue;
            }
            error = errno;
            kill(pid, SIGKILL);
            killed = true;
            break;
        }
        for (i = 0; i < n; i++) {
            if (!pfds[i].revents) {
                continue;
            }
            if (pfds[i].fd == out_fds[0]) {
                exec_read(&out_fds[0], &out);
            } else if (pfds[i].fd == err_fds[0]) {
                exec_read(&err_fds[0], &err);
            } else {
                ssize_t k = send(in_fds[0], input + in_off, in_len - in_off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);

                if (k > 0) {
                    in_off += k;
                }
                if ((k < 0 && errno != EAGAIN && errno != EINTR)
                    || in_off == in_len) {
                    close_fd(&in_fds[0]);
                }
            }
        }
    }

    /* The child may linger after closing its output. */
    for (;;) {
        pid_t retval = waitpid(pid, &status, killed ? 0 : WNOHANG);

        if (retval == pid) {
            break;
        } else if (retval < 0 && errno != EINTR) {
            status = -1;
            break;
        } else if (retval == 0) {
            if (vnm_time_mono_ms() >= deadline) {
                kill(pid, SIGKILL);
                killed = true;
            } else {
                poll(NULL, 0, 5);
            }
        }
    }
    if (!error) {
        error = (killed ? ETIMEDOUT
                 : status != -1 && WIFEXITED(status) && !WEXITSTATUS(status)
                 ? 0 : EIO);
    }

out:
    close_fd(&in_fds[0]);
    close_fd(&in_fds[1]);
    close_fd(&out_fds[0]);
    close_fd(&out_fds[1]);
    close_fd(&err_fds[0]);
    close_fd(&err_fds[1]);
    if (outp) {
        *outp = ds_steal(&out);
    }
    if (errp) {
        *errp = ds_steal(&err);
    }
    free(out.s);
    free(err.s);
    return error;
}

/* ------------------------------------------------------------ parsing */

char *
tap_flow_parse_register(const char *spec, int *reg, int *bit)
{
    const char *p = spec;
    char *end;
    long r, b;

    if (!strncasecmp(p, "NXM_NX_REG", 10)) {
        p += 10;
    } else if (!strncasecmp(p, "reg", 3)) {
        p += 3;
    } else {
        goto error;
    }
    if (!isdigit((unsigned char) *p)) {
        goto error;
    }
    r = strtol(p, &end, 10);
    if (*end != '[' || !isdigit((unsigned char) end[1])) {
        goto error;
    }
    b = strtol(end + 1, &end, 10);
    if (end[0] != ']' || end[1] || r < 0 || r > 15 || b < 0 || b > 31) {
        goto error;
    }
    *reg = r;
    *bit = b;
    return NULL;

error:
    return xasprintf("bad register bit \"%s\" (expected e.g. "
                     "NXM_NX_REG15[31]: register 0-15, bit 0-31)", spec);
}

/* True if 'token' (of a dumped or written match) is not part of the match
 * proper. */
static bool
token_is_noise(const char *token)
{
    static const char *const prefixes[] = {
        "cookie=", "duration=", "n_packets=", "n_bytes=", "idle_age=",
        "hard_age=", "idle_timeout=", "hard_timeout=", "importance=",
        "table=",
    };
    static const char *const flags[] = {
        "reset_counts", "send_flow_rem", "check_overlap", "no_packet_counts",
        "no_byte_counts", "no_readonly_table",
    };
    size_t i;

    for (i = 0; i < VNM_ARRAY_SIZE(prefixes); i++) {
        if (!strncmp(token, prefixes[i], strlen(prefixes[i]))) {
            return true;
        }
    }
    for (i = 0; i < VNM_ARRAY_SIZE(flags); i++) {
        if (!strcmp(token, flags[i])) {
            return true;
        }
    }
    return false;
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Splits 'match' into its match tokens (malloc'd array of malloc'd
 * strings), noise removed; stores their number in '*n'. */
static char **
match_tokens(const char *match, size_t *n)
{
    char **tokens = NULL;
    const char *p = match;

    *n = 0;
    while (*p) {
        size_t len = strcspn(p, ", \t\r\n");

        if (len) {
            char *token = xstrndup(p, len);

            if (token_is_noise(token)) {
                free(token);
            } else {
                tokens = xrealloc(tokens, (*n + 1) * sizeof *tokens);
                tokens[(*n)++] = token;
            }
        }
        p += len;
        p += strspn(p, ", \t\r\n");
    }
    return tokens;
}

static void
tokens_free(char **tokens, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(tokens[i]);
    }
    free(tokens);
}

/* Joins the 'n' 'tokens' with commas. */
static char *
tokens_join(char **tokens, size_t n)
{
    struct ds ds = DS_EMPTY;
    size_t i;

    for (i = 0; i < n; i++) {
        ds_put(&ds, "%s%s", i ? "," : "", tokens[i]);
    }
    return ds_steal(&ds);
}

char *
tap_flow_match_key(const char *match)
{
    bool has_priority = false;
    char **tokens;
    size_t n, i;
    char *key;

    tokens = match_tokens(match, &n);
    for (i = 0; i < n; i++) {
        has_priority |= !strncmp(tokens[i], "priority=", 9);
    }
    if (!has_priority) {
        tokens = xrealloc(tokens, (n + 1) * sizeof *tokens);
        tokens[n++] = xstrdup("priority=32768");
    }
    qsort(tokens, n, sizeof *tokens, compare_strings);
    key = tokens_join(tokens, n);
    tokens_free(tokens, n);
    return key;
}

void
tap_flow_rules_free(struct tap_flow_rule *rules, size_t n)
{
    size_t i;

    if (rules) {
        for (i = 0; i < n; i++) {
            free(rules[i].match);
            free(rules[i].key);
            free(rules[i].actions);
        }
        free(rules);
    }
}

/* Returns the value of the field 'name' ("cookie=") among the
 * comma/space-separated fields of 'text' (not beyond 'end'), or NULL. */
static const char *
find_field(const char *text, const char *end, const char *name)
{
    size_t len = strlen(name);
    const char *p;

    for (p = text; p + len <= end; p++) {
        if ((p == text || strchr(", \t", p[-1])) && !strncmp(p, name, len)) {
            return p + len;
        }
    }
    return NULL;
}

size_t
tap_flow_parse_dump(const char *text, struct tap_flow_rule **rulesp)
{
    struct tap_flow_rule *rules = NULL;
    const char *line = text;
    size_t n = 0;

    while (*line) {
        size_t len = strcspn(line, "\n");
        char *l = xstrndup(line, len);
        char *actions = strstr(l, " actions=");

        line += len + (line[len] == '\n');
        if (actions) {
            struct tap_flow_rule *r;
            const char *v;
            char **tokens;
            size_t n_tokens, end;

            *actions = '\0';
            actions += strlen(" actions=");
            end = strlen(actions);
            while (end && isspace((unsigned char) actions[end - 1])) {
                actions[--end] = '\0';
            }

            rules = xrealloc(rules, (n + 1) * sizeof *rules);
            r = &rules[n++];
            memset(r, 0, sizeof *r);
            v = find_field(l, l + strlen(l), "cookie=");
            r->cookie = v ? strtoull(v, NULL, 0) : 0;
            v = find_field(l, l + strlen(l), "table=");
            r->table = v ? atoi(v) : 0;
            v = find_field(l, l + strlen(l), "priority=");
            r->priority = v ? atoi(v) : 32768;
            tokens = match_tokens(l, &n_tokens);
            r->match = tokens_join(tokens, n_tokens);
            tokens_free(tokens, n_tokens);
            r->key = tap_flow_match_key(r->match);
            r->actions = xstrdup(actions);
        }
        free(l);
    }
    *rulesp = rules;
    return n;
}

size_t
tap_flow_build_rules(uint64_t cookie, int priority, int reg, int bit,
                     int mon_ofport, const int *ofports,
                     const uint16_t *idxs, size_t n,
                     struct tap_flow_rule **rulesp)
{
    struct tap_flow_rule *rules = xcalloc(n + 1, sizeof *rules);
    size_t n_rules = 0, i;

    rules[0].cookie = cookie;
    rules[0].priority = 65535;
    rules[0].match = xasprintf("priority=65535,in_port=%d", mon_ofport);
    rules[0].actions = xstrdup("drop");
    n_rules++;
    for (i = 0; i < n; i++) {
        struct tap_flow_rule *r = &rules[n_rules++];

        r->cookie = cookie;
        r->priority = priority;
        r->match = xasprintf("priority=%d,reg%d=0/0x%"PRIx32",in_port=%d",
                             priority, reg, UINT32_C(1) << bit, ofports[i]);
        r->actions = xasprintf("clone(push_vlan:0x88a8,"
                               "set_field:%d->vlan_vid,output:%d),"
                               "load:0x1->NXM_NX_REG%d[%d],resubmit(,0)",
                               0x1000 | idxs[i], mon_ofport, reg, bit);
    }
    for (i = 0; i < n_rules; i++) {
        rules[i].key = tap_flow_match_key(rules[i].match);
    }
    *rulesp = rules;
    return n_rules;
}

int
tap_flow_parse_port_desc(const char *text, const char *name, int *ofport,
                         bool *no_flood)
{
    const char *line = text;
    bool cur = false, found = false;
    size_t name_len = strlen(name);

    *ofport = 0;
    *no_flood = false;
    while (*line) {
        size_t len = strcspn(line, "\n");
        const char *p = line + strspn(line, " \t");
        const char *paren = memchr(p, '(', line + len - p);

        if (paren && (isdigit((unsigned char) *p) || !strncmp(p, "LOCAL(", 6))
            && paren + 1 + name_len + 2 <= line + len) {
            cur = (!strncmp(paren + 1, name, name_len)
                   && !strncmp(paren + 1 + name_len, "):", 2));
            if (cur) {
                *ofport = isdigit((unsigned char) *p) ? atoi(p) : 65534;
                found = true;
            }
        } else if (paren && (isdigit((unsigned char) *p)
                             || !strncmp(p, "LOCAL(", 6))) {
            cur = false;
        } else if (cur && !strncmp(p, "config:", 7)) {
            const char *nf = strstr(p, "NO_FLOOD");

            *no_flood = nf && nf < line + len;
        }
        line += len + (line[len] == '\n');
    }
    return found ? 0 : ENOENT;
}

char *
tap_flow_default_monitor_port(const char *bridge, char *buf)
{
    uint32_t hash = 2166136261u;
    const char *p;

    for (p = bridge; *p; p++) {
        hash = (hash ^ (uint8_t) *p) * 16777619u;
    }
    snprintf(buf, 16, "vnm-mon-%07"PRIx32, hash & 0xfffffff);
    return buf;
}

/* ------------------------------------------------------------ the tap */

/* A worker's own counters and scratch space. */
struct flow_worker {
    struct tap_counters c;
    uint8_t *scratch;           /* For frames with the tap's tag inline. */
} __attribute__((aligned(64)));

struct tap_flow {
    /* Configuration. */
    char *bridge;
    char mon[16];               /* Monitor port name. */
    char *db_target;            /* "--db=unix:PATH". */
    char *mgmt_target;          /* "unix:RUNDIR/BRIDGE.mgmt". */
    char *vsctl, *ofctl;
    char timeout_arg[32];       /* "--timeout=N". */
    char cookie_str[24];        /* "0x766e6d6f6e000000". */
    uint64_t cookie;
    int cfg_priority;
    int reg, bit;
    int timeout_ms;
    size_t n_workers;

    struct tap_ring_group *rings;
    struct tap_portmap *ports;
    struct flow_worker *workers;

    /* Main thread state. */
    int mon_ifindex;            /* 0: not seen. */
    int mon_ofport;             /* 0: unknown. */
    bool mon_lost;              /* Seen, then gone. */
    bool of10_unsupported;      /* Bridge refuses OpenFlow 1.0. */
    int priority;               /* Of the per-port rules, 0: not set. */
    int warned_priority;        /* Shadowing priority last warned about. */
    struct tap_flow_rule *rules; /* Wanted. */
    size_t n_rules;
    bool *adopted;              /* Per rule: actions as OVS prints them. */
    bool *blocked;              /* Per rule: same match as another's. */
    bool dirty;                 /* Wanted rules changed since last sync. */
    bool synced;                /* Rules were in place at some point. */
    bool in_sync;               /* Last run found everything in place. */
    size_t n_installed;         /* Rules found at the last check. */
    uint64_t next_add_ms;       /* Earliest next ovs-vsctl add-port. */
    uint64_t next_scan_ms;      /* Next table 0 scan. */
    uint64_t n_reinstalls;
    uint64_t n_monitor_recreated;

    /* OVS outage: logged once, then reminders. */
    bool down;
    bool warned;
    uint64_t down_since_ms;
    uint64_t next_reminder_ms;
    uint64_t reminder_ms;
};

/* What a worker's poll passes to flow_frame(). */
struct flow_poll_ctx {
    struct tap_flow *tap;
    size_t worker;
    const struct tap_portmap_snap *snap;
    tap_port_frame_func *cb;
    void *aux;
};

/* Something failed talking to OVS.  An ovs-vswitchd restart is routine and
 * takes a second or two: INFO first, WARN if it lasts OUTAGE_GRACE_MS, then
 * backed-off reminders. */
static void
outage_fail(struct tap_flow *tap, const char *what, const char *detail)
{
    uint64_t now = vnm_time_mono_ms();

    if (!tap->down) {
        tap->down = true;
        tap->warned = false;
        tap->down_since_ms = now;
        VNM_INFO("bridge %s: flow tap: %s failed: %s (retrying)", tap->bridge,
                 what, detail);
    } else if (!tap->warned && now - tap->down_since_ms >= OUTAGE_GRACE_MS) {
        tap->warned = true;
        tap->reminder_ms = OUTAGE_REMINDER_MS;
        tap->next_reminder_ms = now + tap->reminder_ms;
        VNM_WARN("bridge %s: flow tap: %s failed: %s", tap->bridge, what,
                 detail);
    } else if (tap->warned && now >= tap->next_reminder_ms) {
        VNM_WARN("bridge %s: flow tap: still failing after %"PRIu64" s: "
                 "%s: %s", tap->bridge, (now - tap->down_since_ms) / 1000,
                 what, detail);
        tap->reminder_ms = 2 * tap->reminder_ms > OUTAGE_REMINDER_MAX_MS
                           ? OUTAGE_REMINDER_MAX_MS : 2 * tap->reminder_ms;
        tap->next_reminder_ms = now + tap->reminder_ms;
    }
}

static void
outage_ok(struct tap_flow *tap)
{
    if (tap->down) {
        tap->down = false;
        VNM_INFO("bridge %s: flow tap: in place again after %.1f s",
                 tap->bridge,
                 (vnm_time_mono_ms() - tap->down_since_ms) / 1000.0);
    }
}

/* Runs 'argv' (the program first); on failure, records an outage with the
 * first line of its error output.  Stores its output in '*outp' if
 * nonnull. */
static int
flow_exec(struct tap_flow *tap, const char *what, char **argv,
          const char *input, char **outp)
{
    char *err = NULL;
    int error;

    error = tap_flow_exec(argv, input, tap->timeout_ms + 1000, outp, &err);
    if (error) {
        char *detail;

        err[strcspn(err, "\n")] = '\0';
        detail = (*err ? xstrdup(err)
                  : xasprintf("%s (%s)", argv[0], strerror(error)));
        outage_fail(tap, what, detail);
        free(detail);
        if (outp) {
            free(*outp);
            *outp = NULL;
        }
    }
    free(err);
    return error;
}

/* Runs ovs-ofctl with OpenFlow 'version', command 'cmd' on the bridge, and
 * up to 3 more arguments (NULL-terminated), with 'input'. */
static int
flow_ofctl(struct tap_flow *tap, const char *version, const char *cmd,
           const char *arg1, const char *arg2, const char *input,
           char **outp)
{
    char *argv[12];
    char *what = xasprintf("ovs-ofctl %s", cmd);
    size_t n = 0;
    int error;

    argv[n++] = tap->ofctl;
    argv[n++] = (char *) "-O";
    argv[n++] = (char *) version;
    argv[n++] = tap->timeout_arg;
    if (!strcmp(cmd, "dump-flows")) {
        argv[n++] = (char *) "--no-stats";
        argv[n++] = (char *) "--no-names";
    }
    argv[n++] = (char *) cmd;
    argv[n++] = tap->mgmt_target;
    if (arg1) {
        argv[n++] = (char *) arg1;
    }
    if (arg2) {
        argv[n++] = (char *) arg2;
    }
    argv[n] = NULL;
    error = flow_exec(tap, what, argv, input, outp);
    free(what);
    return error;
}

/* Rebuilds the wanted rules from the port set, monitor port and
 * priority. */
static void
flow_rebuild(struct tap_flow *tap)
{
    size_t n_ports = tap_portmap_n_ports(tap->ports);
    int *ofports = xcalloc(n_ports + 1, sizeof *ofports);
    uint16_t *idxs = xcalloc(n_ports + 1, sizeof *idxs);
    size_t n = 0, i;

    tap_flow_rules_free(tap->rules, tap->n_rules);
    tap->rules = NULL;
    tap->n_rules = 0;
    if (tap->mon_ofport > 0 && tap->priority > 0) {
        for (i = 0; i < n_ports; i++) {
            const struct tap_port *port;
            uint16_t idx;

            port = tap_portmap_get_port(tap->ports, i, &idx);
            if (port->ofport != tap->mon_ofport) {
                ofports[n] = port->ofport;
                idxs[n++] = idx;
            }
        }
        tap->n_rules = tap_flow_build_rules(tap->cookie, tap->priority,
                                            tap->reg, tap->bit,
                                            tap->mon_ofport, ofports, idxs, n,
                                            &tap->rules);
    }
    free(ofports);
    free(idxs);
    free(tap->adopted);
    free(tap->blocked);
    tap->adopted = xcalloc(tap->n_rules + 1, sizeof *tap->adopted);
    tap->blocked = xcalloc(tap->n_rules + 1, sizeof *tap->blocked);
    tap->dirty = true;
}

/* Dumps table 0: sets the priority (automatic mode) and marks the wanted
 * rules that have the same match as a rule of someone else's. */
static int
flow_scan_table0(struct tap_flow *tap)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(2, 2);
    struct tap_flow_rule *dumped;
    size_t n_dumped, i, j;
    int max_other = -1;
    int priority, error;
    char *out;

    error = flow_ofctl(tap, "OpenFlow13", "dump-flows", "table=0", NULL,
                       NULL, &out);
    if (error) {
        return error;
    }
    n_dumped = tap_flow_parse_dump(out, &dumped);
    free(out);
    for (i = 0; i < n_dumped; i++) {
        if (dumped[i].cookie != tap->cookie
            && dumped[i].cookie != TAP_FLOW_QUARANTINE_COOKIE
            && dumped[i].table == 0 && dumped[i].priority > max_other) {
            max_other = dumped[i].priority;
        }
    }

    if (tap->cfg_priority) {
        priority = tap->cfg_priority;
    } else {
        priority = max_other + 1;
        if (priority < TAP_FLOW_AUTO_PRIORITY_FLOOR) {
            priority = TAP_FLOW_AUTO_PRIORITY_FLOOR;
        }
        if (priority > 65535) {
            priority = 65535;
        }
        if (priority < tap->priority) {
            priority = tap->priority;
        }
    }
    if (max_other >= priority && max_other != tap->warned_priority) {
        tap->warned_priority = max_other;
        VNM_WARN("bridge %s: flow tap: table 0 has a rule of priority %d, "
                 "not below the tap's %d: frames it matches are not tapped",
                 tap->bridge, max_other, priority);
    }
    if (priority != tap->priority) {
        if (tap->priority) {
            VNM_INFO("bridge %s: flow tap: priority %d -> %d", tap->bridge,
                     tap->priority, priority);
        }
        tap->priority = priority;
        flow_rebuild(tap);
    }

    for (i = 0; i < tap->n_rules; i++) {
        bool blocked = false;

        for (j = 0; j < n_dumped && !blocked; j++) {
            blocked = (dumped[j].cookie != tap->cookie
                       && dumped[j].table == 0
                       && !strcmp(dumped[j].key, tap->rules[i].key));
        }
        if (blocked && !tap->blocked[i]) {
            VNM_WARN_RL(&rl, "bridge %s: flow tap: a rule of someone else "
                        "has the match %s: that port is not tapped",
                        tap->bridge, tap->rules[i].match);
        }
        tap->blocked[i] = blocked;
    }
    tap_flow_rules_free(dumped, n_dumped);
    return 0;
}

/* Compares the 'n' 'dumped' rules (of the tap's cookie) with the wanted
 * ones; puts into 'input' the add-flows lines that fix the differences, and
 * returns their number.  With 'adopt', a wanted rule present with other
 * actions takes them as its own, once (OVS may print actions otherwise than
 * written).  Stores the number of wanted rules present in '*n_present'. */
static size_t
flow_compare(struct tap_flow *tap, const struct tap_flow_rule *dumped,
             size_t n, bool adopt, struct ds *input, size_t *n_present)
{
    bool *used = xcalloc(n + 1, sizeof *used);
    size_t n_lines = 0, i, j;

    *n_present = 0;
    for (i = 0; i < tap->n_rules; i++) {
        struct tap_flow_rule *r = &tap->rules[i];
        bool ok = false;

        if (tap->blocked[i]) {
            continue;
        }
        for (j = 0; j < n; j++) {
            if (!used[j] && dumped[j].table == 0
                && !strcmp(dumped[j].key, r->key)) {
                used[j] = true;
                ok = !strcmp(dumped[j].actions, r->actions);
                if (!ok && adopt && !tap->adopted[i]) {
                    VNM_DBG("bridge %s: flow tap: rule %s reads back with "
                            "actions=%s", tap->bridge, r->match,
                            dumped[j].actions);
                    free(r->actions);
                    r->actions = xstrdup(dumped[j].actions);
                    tap->adopted[i] = true;
                    ok = true;
                }
                break;
            }
        }
        if (ok) {
            (*n_present)++;
        } else {
            ds_put(input, "add cookie=%s,table=0,%s actions=%s\n",
                   tap->cookie_str, r->match, r->actions);
            n_lines++;
        }
    }
    for (j = 0; j < n; j++) {
        if (!used[j]) {
            ds_put(input, "delete_strict cookie=%s/-1,table=%d,%s\n",
                   tap->cookie_str, dumped[j].table, dumped[j].match);
            n_lines++;
        }
    }
    free(used);
    return n_lines;
}

/* Dumps the tap's rules and compares them with the wanted ones, as
 * flow_compare() does. */
static int
flow_check(struct tap_flow *tap, bool adopt, struct ds *input,
           size_t *n_lines, size_t *n_dumped)
{
    struct tap_flow_rule *dumped;
    char *filter = xasprintf("cookie=%s/-1", tap->cookie_str);
    size_t n, n_present;
    char *out;
    int error;

    error = flow_ofctl(tap, "OpenFlow13", "dump-flows", filter, NULL, NULL,
                       &out);
    free(filter);
    if (error) {
        return error;
    }
    n = tap_flow_parse_dump(out, &dumped);
    free(out);
    *n_lines = flow_compare(tap, dumped, n, adopt, input, &n_present);
    *n_dumped = n;
    tap_flow_rules_free(dumped, n);
    return 0;
}

/* Makes the tap's rules in OVS what they should be. */
static int
flow_sync(struct tap_flow *tap, uint64_t now)
{
    struct ds input = DS_EMPTY;
    size_t n_lines, n_dumped;
    bool scanned = false;
    bool external;
    int error;

    if (!tap->priority
        || (!tap->cfg_priority && now >= tap->next_scan_ms)) {
        error = flow_scan_table0(tap);
        if (error) {
            return error;
        }
        tap->next_scan_ms = now + SCAN_INTERVAL_MS;
        scanned = true;
    }

    error = flow_check(tap, false, &input, &n_lines, &n_dumped);
    if (error || !n_lines) {
        goto out;
    }

    /* Something to fix.  If the wanted rules did not change since they
     * were last in place, someone else changed or removed them (an
     * ovs-vswitchd restart, a controller).  Before writing, look at table 0
     * again: the priority may have to rise, and an "add" must not replace
     * someone else's rule with the same match. */
    external = tap->synced && !tap->dirty;
    if (!scanned) {
        error = flow_scan_table0(tap);
        if (error) {
            goto out;
        }
        tap->next_scan_ms = now + SCAN_INTERVAL_MS;
        free(input.s);
        input = (struct ds) DS_EMPTY;
        error = flow_check(tap, false, &input, &n_lines, &n_dumped);
        if (error || !n_lines) {
            goto out;
        }
    }

    error = flow_ofctl(tap, "OpenFlow13", "add-flows", "-", NULL, input.s,
                       NULL);
    if (error) {
        goto out;
    }
    free(input.s);
    input = (struct ds) DS_EMPTY;
    error = flow_check(tap, true, &input, &n_lines, &n_dumped);
    if (!error && n_lines) {
        outage_fail(tap, "checking installed rules",
                    "they do not read back as installed");
        error = EPROTO;
    }
    if (!error && external) {
        tap->n_reinstalls++;
        VNM_INFO("bridge %s: flow tap: rules were removed or changed; "
                 "reinstalled", tap->bridge);
    }

out:
    free(input.s);
    if (!error) {
        tap->synced = true;
        tap->dirty = false;
        tap->n_installed = n_dumped;
    }
    return error;
}

/* Disables IPv6 on the monitor port (before it is ever up), so that the
 * kernel sends nothing on it. */
static void
mon_disable_ipv6(struct tap_flow *tap)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(2, 2);
    char path[96];
    char c = 0;
    int fd;

    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
             tap->mon);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return;                 /* No IPv6 at all. */
    }
    if (pread(fd, &c, 1, 0) != 1 || c != '1') {
        if (pwrite(fd, "1\n", 2, 0) != 2) {
            VNM_WARN_RL(&rl, "bridge %s: flow tap: cannot disable IPv6 on "
                        "%s (%s)", tap->bridge, tap->mon, strerror(errno));
        }
    }
    close(fd);
}

/* Brings the monitor port up. */
static int
mon_set_up(struct tap_flow *tap)
{
    struct ifreq ifr;
    int fd, error = 0;

    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    memset(&ifr, 0, sizeof ifr);
    vnm_strlcpy(ifr.ifr_name, tap->mon, sizeof ifr.ifr_name);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
        error = errno;
    } else if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
            error = errno;
        }
    }
    close(fd);
    return error;
}

/* Creates the monitor port (if not tried too recently) and waits a little
 * for its netdev.  Returns its ifindex, or 0. */
static int
mon_create(struct tap_flow *tap, uint64_t now)
{
    /* Not --no-wait: ovsdb-server logs a WARN when ovs-vsctl leaves before
     * it sends the update that follows a commit.  An access port in VLAN
     * 4095 (reserved by 802.1Q, so no VM's) receives no flood from NORMAL,
     * not even after an ovs-vswitchd restart until "no-flood" is set again;
     * "output" actions, the tap's, ignore it. */
    char *argv[] = {
        tap->vsctl, tap->db_target, tap->timeout_arg,
        (char *) "--", (char *) "--may-exist", (char *) "add-port",
        tap->bridge, tap->mon,
        (char *) "--", (char *) "set", (char *) "port", tap->mon,
        (char *) "tag=4095", (char *) "vlan_mode=access",
        (char *) "--", (char *) "set", (char *) "interface", tap->mon,
        (char *) "type=internal", (char *) "external_ids:vnmon-monitor=true",
        NULL,
    };
    uint64_t deadline;
    int ifindex = 0;

    if (now >= tap->next_add_ms) {
        tap->next_add_ms = now + ADD_PORT_RETRY_MS;
        if (!flow_exec(tap, "ovs-vsctl add-port", argv, NULL, NULL)) {
            deadline = vnm_time_mono_ms() + ADD_PORT_WAIT_MS;
            while (!(ifindex = if_nametoindex(tap->mon))
                   && vnm_time_mono_ms() < deadline) {
                poll(NULL, 0, 20);
            }
        }
    }
    return ifindex;
}

static int
flow_run__(struct tap_flow *tap)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(2, 2);
    uint64_t now = vnm_time_mono_ms();
    int ifindex, ofport, error;
    bool no_flood;
    char *out;

    /* The monitor port's netdev. */
    ifindex = if_nametoindex(tap->mon);
    if (!ifindex) {
        if (tap->mon_ifindex) {
            VNM_INFO("bridge %s: flow tap: monitor port %s vanished",
                     tap->bridge, tap->mon);
            tap->mon_ifindex = 0;
            tap->mon_lost = true;
        }
        ifindex = mon_create(tap, now);
        if (!ifindex) {
            return EAGAIN;
        }
    }
    if (ifindex != tap->mon_ifindex) {
        if (tap->mon_lost || tap->mon_ifindex) {
            tap->n_monitor_recreated++;
            VNM_INFO("bridge %s: flow tap: monitor port %s is back "
                     "(ifindex %d)", tap->bridge, tap->mon, ifindex);
        }
        tap->mon_lost = false;
        tap->mon_ifindex = ifindex;
    }
    mon_disable_ipv6(tap);

    /* Its OpenFlow port number and no-flood config (OpenFlow 1.0 only). */
    error = flow_ofctl(tap, (tap->of10_unsupported ? "OpenFlow13"
                             : "OpenFlow10"),
                       "dump-ports-desc", NULL, NULL, NULL, &out);
    if (error) {
        return error;
    }
    error = tap_flow_parse_port_desc(out, tap->mon, &ofport, &no_flood);
    free(out);
    if (error || ofport <= 0 || ofport >= 0xff00) {
        outage_fail(tap, "finding the monitor port",
                    "ovs-vswitchd does not list it yet");
        return EAGAIN;
    }
    if (ofport != tap->mon_ofport) {
        tap->mon_ofport = ofport;
        flow_rebuild(tap);
    }
    if (!no_flood && !tap->of10_unsupported) {
        char *err = NULL;
        char *argv[] = {
            tap->ofctl, (char *) "-O", (char *) "OpenFlow10",
            tap->timeout_arg, (char *) "mod-port", tap->mgmt_target,
            tap->mon, (char *) "no-flood", NULL,
        };

        error = tap_flow_exec(argv, NULL, tap->timeout_ms + 1000, NULL, &err);
        if (error && strstr(err, "version negotiation failed")) {
            tap->of10_unsupported = true;
            VNM_WARN("bridge %s: flow tap: the bridge refuses OpenFlow 1.0: "
                     "monitor port %s cannot be made no-flood (flooded "
                     "frames will reach it, and be dropped)", tap->bridge,
                     tap->mon);
        } else if (error) {
            err[strcspn(err, "\n")] = '\0';
            outage_fail(tap, "ovs-ofctl mod-port", err);
            free(err);
            return error;
        }
        free(err);
    }

    /* The rules; then the port may come up, its drop rule in place. */
    error = flow_sync(tap, now);
    if (error) {
        return error;
    }
    error = mon_set_up(tap);
    if (error) {
        VNM_WARN_RL(&rl, "bridge %s: flow tap: cannot bring %s up (%s)",
                    tap->bridge, tap->mon, strerror(error));
        return error;
    }

    /* The rings. */
    if (tap_ring_group_get_ifindex(tap->rings) != ifindex) {
        error = tap_ring_group_set_ifindexes(tap->rings, &ifindex, 1);
        if (!error) {
            error = tap_ring_group_bind(tap->rings, ifindex);
        }
        if (error) {
            VNM_WARN_RL(&rl, "bridge %s: flow tap: cannot capture on %s "
                        "(%s)", tap->bridge, tap->mon, strerror(error));
            return error;
        }
        VNM_DBG("bridge %s: flow tap: capturing on %s (ifindex %d)",
                tap->bridge, tap->mon, ifindex);
    }
    return 0;
}

int
tap_flow_run(struct tap_flow *tap)
{
    int error = flow_run__(tap);

    tap->in_sync = !error;
    if (!error) {
        outage_ok(tap);
    }
    return error;
}

void
tap_flow_config_init(struct tap_flow_config *config)
{
    memset(config, 0, sizeof *config);
    config->db_path = "/var/run/openvswitch/db.sock";
    config->rundir = "/var/run/openvswitch";
    config->cookie = TAP_FLOW_DEFAULT_COOKIE;
    config->reg = 15;
    config->reg_bit = 31;
    config->n_workers = 1;
    config->command_timeout_ms = 5000;
    config->ovs_vsctl = "ovs-vsctl";
    config->ovs_ofctl = "ovs-ofctl";
    tap_ring_config_init(&config->ring);
}

static bool
valid_ifname(const char *name)
{
    size_t len = strlen(name);

    return (len > 0 && len < IFNAMSIZ
            && strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                      "VWXYZ0123456789-_.") == len);
}

int
tap_flow_create(const struct tap_flow_config *config,
                struct tap_flow **tapp)
{
    struct tap_ring_config ring = config->ring;
    struct tap_flow *tap;
    size_t i;

    *tapp = NULL;
    ring.reinsert_vlan = false;
    if (!config->bridge || !valid_ifname(config->bridge)
        || (config->monitor_port && !valid_ifname(config->monitor_port))
        || !config->db_path || !config->rundir
        || config->priority < 0 || config->priority > 65535
        || config->reg < 0 || config->reg > 15
        || config->reg_bit < 0 || config->reg_bit > 31
        || !config->n_workers || config->n_workers > 1024
        || config->command_timeout_ms <= 0
        || !config->ovs_vsctl || !config->ovs_ofctl
        || tap_ring_config_check(&ring)) {
        return EINVAL;
    }

    tap = xzalloc(sizeof *tap);
    tap->bridge = xstrdup(config->bridge);
    if (config->monitor_port) {
        vnm_strlcpy(tap->mon, config->monitor_port, sizeof tap->mon);
    } else {
        tap_flow_default_monitor_port(config->bridge, tap->mon);
    }
    tap->db_target = xasprintf("--db=unix:%s", config->db_path);
    tap->mgmt_target = xasprintf("unix:%s/%s.mgmt", config->rundir,
                                 config->bridge);
    tap->vsctl = xstrdup(config->ovs_vsctl);
    tap->ofctl = xstrdup(config->ovs_ofctl);
    snprintf(tap->timeout_arg, sizeof tap->timeout_arg, "--timeout=%d",
             (config->command_timeout_ms + 999) / 1000);
    snprintf(tap->cookie_str, sizeof tap->cookie_str, "0x%"PRIx64,
             config->cookie);
    tap->cookie = config->cookie;
    tap->cfg_priority = config->priority;
    tap->reg = config->reg;
    tap->bit = config->reg_bit;
    tap->timeout_ms = config->command_timeout_ms;
    tap->n_workers = config->n_workers;
    tap->warned_priority = -1;

    if (tap_ring_group_create(&ring, config->n_workers, &tap->rings)) {
        vnm_fatal("flow tap: ring group");  /* Checked above. */
    }
    tap->ports = tap_portmap_create(config->n_workers, TAP_PORT_KEY_OFPORT);
    if (posix_memalign((void **) &tap->workers, 64,
                       config->n_workers * sizeof *tap->workers)) {
        vnm_fatal("out of memory");
    }
    for (i = 0; i < config->n_workers; i++) {
        struct flow_worker *w = &tap->workers[i];

        tap_counters_init(&w->c);
        w->scratch = xmalloc(ring.block_size);
    }
    flow_rebuild(tap);

    VNM_INFO("bridge %s: flow tap: monitor port %s, cookie %s, register "
             "bit NXM_NX_REG%d[%d]", tap->bridge, tap->mon, tap->cookie_str,
             tap->reg, tap->bit);
    tap_flow_run(tap);
    *tapp = tap;
    return 0;
}

int
tap_flow_set_ports(struct tap_flow *tap, const struct tap_port *ports,
                   size_t n)
{
    struct tap_port *mine = xcalloc(n + 1, sizeof *mine);
    size_t n_mine = 0, left_out, i;

    for (i = 0; i < n; i++) {
        const struct tap_port *p = &ports[i];

        if (p->ofport > 0 && strncmp(p->name, tap->mon, sizeof p->name)
            && (!p->bridge[0]
                || !strncmp(p->bridge, tap->bridge, sizeof p->bridge))) {
            mine[n_mine++] = *p;
        }
    }
    left_out = tap_portmap_set(tap->ports, mine, n_mine);
    free(mine);
    flow_rebuild(tap);
    return left_out ? ENOSPC : 0;
}

static void
flow_frame(void *ctx_, const struct tap_frame *frame)
{
    struct flow_poll_ctx *ctx = ctx_;
    struct flow_worker *w = &ctx->tap->workers[ctx->worker];
    const struct tap_port *port;
    struct tap_frame f = *frame;
    uint16_t tci;

    if (frame->vlan_valid) {
        if (frame->vlan_tpid != ETH_P_8021AD) {
            tap_counter_add(&w->c.n_untagged, 1);
            return;
        }
        tci = frame->vlan_tci;
        f.vlan_valid = false;
        f.vlan_tpid = 0;
        f.vlan_tci = 0;
    } else if (frame->caplen >= 2 * ETH_ALEN + 4
               && frame->data[12] == (ETH_P_8021AD >> 8)
               && frame->data[13] == (ETH_P_8021AD & 0xff)) {
        /* The kernel left the tag inline: take it out. */
        tci = (frame->data[14] << 8) | frame->data[15];
        memcpy(w->scratch, frame->data, 2 * ETH_ALEN);
        memcpy(w->scratch + 2 * ETH_ALEN, frame->data + 2 * ETH_ALEN + 4,
               frame->caplen - 2 * ETH_ALEN - 4);
        f.data = w->scratch;
        f.caplen -= 4;
        f.wire_len -= 4;
    } else {
        tap_counter_add(&w->c.n_untagged, 1);
        return;
    }

    port = tap_portmap_find_idx(ctx->snap, tci & 0xfff);
    if (!port) {
        tap_counter_add(&w->c.n_unknown, 1);
        return;
    }
    f.ifindex = port->ifindex;
    tap_portmap_count(ctx->tap->ports, ctx->worker, tci & 0xfff, f.wire_len);
    tap_counter_add(&w->c.packets, 1);
    tap_counter_add(&w->c.bytes, f.wire_len);
    ctx->cb(ctx->aux, &f, port);
}

int
tap_flow_poll(struct tap_flow *tap, size_t worker, int timeout_ms,
              tap_port_frame_func *cb, void *aux)
{
    struct flow_poll_ctx ctx = {
        .tap = tap, .worker = worker, .cb = cb, .aux = aux,
    };
    int retval;

    vnm_assert(worker < tap->n_workers);
    ctx.snap = tap_portmap_enter(tap->ports, worker);
    retval = tap_ring_group_poll(tap->rings, worker, timeout_ms, flow_frame,
                                 &ctx);
    tap_portmap_exit(tap->ports, worker);
    return retval;
}

void
tap_flow_get_stats(struct tap_flow *tap, struct tap_flow_stats *stats)
{
    size_t i;

    memset(stats, 0, sizeof *stats);
    for (i = 0; i < tap->n_workers; i++) {
        tap_stats_add_worker(&stats->tap, &tap->workers[i].c, tap->rings, i);
    }
    stats->tap.n_ports = tap_portmap_n_ports(tap->ports);
    stats->n_reinstalls = tap->n_reinstalls;
    stats->n_monitor_recreated = tap->n_monitor_recreated;
    stats->in_sync = tap->in_sync;
    stats->priority = tap->priority;
    stats->n_rules = tap->n_installed;
    vnm_strlcpy(stats->monitor_port, tap->mon, sizeof stats->monitor_port);
    stats->monitor_ofport = tap->mon_ofport;
    stats->monitor_ifindex = tap->mon_ifindex;
}

size_t
tap_flow_get_port_stats(struct tap_flow *tap, struct tap_port_stats **statsp)
{
    return tap_portmap_get_stats(tap->ports, statsp);
}

/* Deletes exactly the tap's rules, then its port (also if ovs-vswitchd is
 * down and its rules gone with it, or it would create the port again). */
static void
flow_remove(struct tap_flow *tap)
{
    char *argv[] = {
        tap->vsctl, tap->db_target, tap->timeout_arg, (char *) "--",
        (char *) "--if-exists", (char *) "del-port", tap->bridge, tap->mon,
        NULL,
    };
    char *filter = xasprintf("cookie=%s/-1", tap->cookie_str);
    int error;

    error = flow_ofctl(tap, "OpenFlow13", "del-flows", filter, NULL, NULL,
                       NULL);
    free(filter);
    if (!flow_exec(tap, "ovs-vsctl del-port", argv, NULL, NULL) && !error) {
        VNM_INFO("bridge %s: flow tap: rules and monitor port %s removed",
                 tap->bridge, tap->mon);
    }
}

void
tap_flow_destroy(struct tap_flow *tap)
{
    size_t i;

    if (!tap) {
        return;
    }
    flow_remove(tap);
    tap_ring_group_destroy(tap->rings);
    tap_portmap_destroy(tap->ports);
    for (i = 0; i < tap->n_workers; i++) {
        free(tap->workers[i].scratch);
    }
    free(tap->workers);
    tap_flow_rules_free(tap->rules, tap->n_rules);
    free(tap->adopted);
    free(tap->blocked);
    free(tap->bridge);
    free(tap->db_target);
    free(tap->mgmt_target);
    free(tap->vsctl);
    free(tap->ofctl);
    free(tap);
}
