/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Daemon basics shared by vnmon-agent and vnmon-analyzer: see daemon.h.
 */
#include <config.h>

#include "lib/daemon.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/counter.h"
#include "lib/log.h"
#include "lib/redis.h"

VNM_LOG_MODULE(daemon);

struct vnm_daemon {
    const struct vnm_daemon_spec *spec;
    void *aux;

    /* Settings. */
    char *config_file;
    struct vnm_config *config;
    const char *host_id;
    const char *plugin_dir;
    char *pidfile;
    const char *log_target;
    const char *log_levels;
    int64_t heartbeat_ms;
    bool detach;
    bool check_only;

    /* Run time. */
    struct event_base *base;
    struct event *sig_term, *sig_int, *sig_hup;
    struct event *heartbeat;
    struct vnm_redis *redis;
    struct vnm_loader *loader;
    char *status_key;
    uint64_t started_ms;
    bool pidfile_created;
    int ready_fd;               /* Write end of the detach pipe, or -1. */
};

char *
vnm_daemon_status_key(const char *host_id, const char *name)
{
    return xasprintf("vnm:{%s}:daemon:%s", host_id, name);
}

struct event_base *
vnm_daemon_event_base(const struct vnm_daemon *d)
{
    return d->base;
}

struct vnm_redis *
vnm_daemon_redis(const struct vnm_daemon *d)
{
    return d->redis;
}

struct vnm_loader *
vnm_daemon_loader(const struct vnm_daemon *d)
{
    return d->loader;
}

const char *
vnm_daemon_host_id(const struct vnm_daemon *d)
{
    return d->host_id;
}

void
vnm_daemon_exit(struct vnm_daemon *d)
{
    event_base_loopbreak(d->base);
}

static const char *
rundir(void)
{
    const char *env = getenv("VNM_RUNDIR");

    return env && *env ? env : VNM_RUNSTATEDIR;
}

static void
usage(const struct vnm_daemon_spec *spec)
{
    printf("vnmon-%s: %s\n"
           "usage: vnmon-%s [OPTIONS]\n"
           "\n"
           "Options:\n"
           "  -c, --config=FILE      configuration file (default %s/%s.conf)\n"
           "      --check-config     check the configuration and plugins, "
           "then exit\n"
           "      --detach           run in the background once started\n"
           "      --pidfile=FILE     pid file (default $VNM_RUNDIR/vnmon-%s.pid,"
           "\n"
           "                         VNM_RUNDIR defaults to %s)\n"
           "      --log=TARGET       stderr, syslog or a file path\n"
           "      --log-level=SPEC   e.g. info or warn,redis:dbg\n"
           "  -h, --help             show this help and exit\n"
           "  -V, --version          show the version and exit\n"
           "\n"
           "Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reopens the log "
           "file.\n"
           "Environment: VNM_RUNDIR, VNM_PLUGIN_DIR, VNM_HOST_ID.\n",
           spec->name, spec->summary, spec->name, VNM_SYSCONFDIR, spec->name,
           spec->name, VNM_RUNSTATEDIR);
}

enum {
    OPT_CHECK_CONFIG = UCHAR_MAX + 1,
    OPT_DETACH,
    OPT_PIDFILE,
    OPT_LOG,
    OPT_LOG_LEVEL,
};

/* Parses the command line.  Returns -1 to go on, else an exit status. */
static int
parse_options(struct vnm_daemon *d, int argc, char *argv[],
              const char **log_target, const char **log_levels,
              const char **pidfile)
{
    static const struct option options[] = {
        { "config", required_argument, NULL, 'c' },
        { "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
        { "detach", no_argument, NULL, OPT_DETACH },
        { "pidfile", required_argument, NULL, OPT_PIDFILE },
        { "log", required_argument, NULL, OPT_LOG },
        { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "c:hV", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            free(d->config_file);
            d->config_file = xstrdup(optarg);
            break;
        case OPT_CHECK_CONFIG:
            d->check_only = true;
            break;
        case OPT_DETACH:
            d->detach = true;
            break;
        case OPT_PIDFILE:
            *pidfile = optarg;
            break;
        case OPT_LOG:
            *log_target = optarg;
            break;
        case OPT_LOG_LEVEL:
            *log_levels = optarg;
            break;
        case 'h':
            usage(d->spec);
            return 0;
        case 'V':
            printf("vnmon-%s (vnmon) %s, plugin ABI %d.%d\n", d->spec->name,
                   PACKAGE_VERSION, VNM_PLUGIN_ABI_MAJOR,
                   VNM_PLUGIN_ABI_MINOR);
            return 0;
        case '?':
        default:
            fprintf(stderr, "Try 'vnmon-%s --help' for more information.\n",
                    d->spec->name);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vnmon-%s: unexpected argument \"%s\"\n",
                d->spec->name, argv[optind]);
        return 2;
    }
    return -1;
}

/* Loads the configuration and reads the common keys.  Returns NULL or an
 * error. */
static char *
configure(struct vnm_daemon *d, const char *log_target,
          const char *log_levels, const char *pidfile)
{
    static const char *const common[] = { "redis", NULL };
    const char *kinds[16];
    const struct vnm_conf *own, *redis_conf;
    struct vnm_redis_options ropts;
    const char *conf_pidfile;
    size_t n = 0;
    char *error;

    if (d->config_file) {
        error = vnm_config_load(d->config_file, &d->config);
        if (error) {
            return error;
        }
    } else {
        char *dflt = xasprintf("%s/%s.conf", VNM_SYSCONFDIR, d->spec->name);

        if (access(dflt, F_OK)) {
            d->config = vnm_config_create_empty(dflt);
        } else if ((error = vnm_config_load(dflt, &d->config))) {
            free(dflt);
            return error;
        }
        d->config_file = dflt;
    }

    kinds[n++] = d->spec->name;
    for (size_t i = 0; common[i]; i++) {
        kinds[n++] = common[i];
    }
    for (size_t i = 0; d->spec->sections && d->spec->sections[i]
                       && n < VNM_ARRAY_SIZE(kinds) - 1; i++) {
        kinds[n++] = d->spec->sections[i];
    }
    kinds[n] = NULL;
    error = vnm_config_check_sections(d->config, kinds,
                                      d->spec->named_sections);
    if (error) {
        return error;
    }

    own = vnm_config_section(d->config, d->spec->name, NULL);
    if ((error = vnm_conf_get_string(own, "host_id", vnm_default_host_id(),
                                     &d->host_id))
        || (error = vnm_conf_get_string(own, "plugin_dir", NULL,
                                        &d->plugin_dir))
        || (error = vnm_conf_get_string(own, "pidfile", NULL,
                                        &conf_pidfile))
        || (error = vnm_conf_get_string(own, "log", "stderr",
                                        &d->log_target))
        || (error = vnm_conf_get_string(own, "log_level", "info",
                                        &d->log_levels))
        || (error = vnm_conf_get_duration(own, "heartbeat", 1000, 100,
                                          60000, &d->heartbeat_ms))) {
        return error;
    }
    if (!d->host_id[0] || strpbrk(d->host_id, "{}: \t")) {
        return vnm_conf_error(own, "host_id", "\"%s\": must be non-empty, "
                              "without braces, colons or spaces",
                              d->host_id);
    }
    if (log_target) {
        d->log_target = log_target;
    }
    if (log_levels) {
        d->log_levels = log_levels;
    }
    d->pidfile = (pidfile ? xstrdup(pidfile)
                  : conf_pidfile ? xstrdup(conf_pidfile)
                  : xasprintf("%s/vnmon-%s.pid", rundir(), d->spec->name));

    redis_conf = vnm_config_section(d->config, "redis", NULL);
    error = vnm_redis_options_from_conf(redis_conf, &ropts);
    if (error) {
        return error;
    }
    if (d->spec->configure) {
        error = d->spec->configure(d->aux, d, d->config);
        if (error) {
            return error;
        }
    }
    if ((error = vnm_conf_check_unused(own))
        || (error = vnm_conf_check_unused(redis_conf))) {
        return error;
    }
    error = vnm_log_set_levels(d->log_levels);
    if (error) {
        char *full = (log_levels
                      ? xasprintf("--log-level: %s", error)
                      : vnm_conf_error(own, "log_level", "%s", error));

        free(error);
        return full;
    }
    d->redis = vnm_redis_create(&ropts);
    return NULL;
}

/* Pid file. */

static char *
create_pidfile(struct vnm_daemon *d)
{
    char *dir = xstrdup(d->pidfile);
    char *slash = strrchr(dir, '/');
    char buf[32];
    FILE *f;
    int fd;

    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0755) && errno != EEXIST) {
            char *error = xasprintf("%s: cannot create directory (%s)", dir,
                                    strerror(errno));
            free(dir);
            return error;
        }
    }
    free(dir);

    f = fopen(d->pidfile, "re");
    if (f) {
        long pid = 0;

        if (fscanf(f, "%ld", &pid) == 1 && pid > 0 && pid != getpid()
            && !kill((pid_t) pid, 0)) {
            char comm[64] = "";
            char path[64];
            FILE *cf;

            snprintf(path, sizeof path, "/proc/%ld/comm", pid);
            cf = fopen(path, "re");
            if (cf) {
                if (!fgets(comm, sizeof comm, cf)) {
                    comm[0] = '\0';
                }
                fclose(cf);
            }
            /* A zombie (killed, not yet reaped) is not running. */
            snprintf(path, sizeof path, "/proc/%ld/stat", pid);
            cf = fopen(path, "re");
            if (cf) {
                char stat[256] = "";
                const char *end;

                if (fgets(stat, sizeof stat, cf)
                    && (end = strrchr(stat, ')')) && end[1] == ' '
                    && end[2] == 'Z') {
                    comm[0] = '\0';
                }
                fclose(cf);
            }
            if (strstr(comm, "vnmon")) {
                fclose(f);
                return xasprintf("%s: vnmon-%s is already running (pid %ld)",
                                 d->pidfile, d->spec->name, pid);
            }
        }
        fclose(f);
        unlink(d->pidfile);     /* Stale. */
    }
    fd = open(d->pidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        return xasprintf("%s: cannot create pid file (%s)", d->pidfile,
                         strerror(errno));
    }
    snprintf(buf, sizeof buf, "%ld\n", (long) getpid());
    if (write(fd, buf, strlen(buf)) != (ssize_t) strlen(buf)) {
        int error = errno;

        close(fd);
        unlink(d->pidfile);
        return xasprintf("%s: cannot write pid file (%s)", d->pidfile,
                         strerror(error));
    }
    close(fd);
    d->pidfile_created = true;
    return NULL;
}

static void
remove_pidfile(struct vnm_daemon *d)
{
    if (d->pidfile_created && unlink(d->pidfile) && errno != ENOENT) {
        VNM_WARN("%s: cannot remove pid file (%s)", d->pidfile,
                 strerror(errno));
    }
    d->pidfile_created = false;
}

/* Detaching: the parent waits until the child is ready or has failed, so
 * that a startup error gives a non-zero exit status to whoever started the
 * daemon. */
static int
detach(struct vnm_daemon *d)
{
    int fds[2];
    pid_t pid;
    char c;

    if (pipe(fds)) {
        vnm_fatal("pipe failed (%s)", strerror(errno));
    }
    pid = fork();
    if (pid < 0) {
        vnm_fatal("fork failed (%s)", strerror(errno));
    } else if (pid > 0) {
        ssize_t n;
        int status;

        close(fds[1]);
        do {
            n = read(fds[0], &c, 1);
        } while (n < 0 && errno == EINTR);
        if (n == 1) {
            _exit(0);
        }
        if (waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
            _exit(WEXITSTATUS(status) ? WEXITSTATUS(status) : 1);
        }
        _exit(1);
    }
    close(fds[0]);
    setsid();
    d->ready_fd = fds[1];
    return 0;
}

static void
notify_ready(struct vnm_daemon *d)
{
    int fd;

    if (d->ready_fd < 0) {
        return;
    }
    fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        if (strcmp(d->log_target, "stderr")) {
            dup2(fd, STDERR_FILENO);
        }
        if (fd > STDERR_FILENO) {
            close(fd);
        }
    }
    if (write(d->ready_fd, "", 1) != 1) {
        VNM_WARN("cannot tell the parent process we are ready (%s)",
                 strerror(errno));
    }
    close(d->ready_fd);
    d->ready_fd = -1;
}

/* Status record. */

static json_t *
plugins_json(const struct vnm_daemon *d)
{
    json_t *array = json_array();

    for (size_t i = 0; i < vnm_loader_count(d->loader); i++) {
        const struct vnm_plugin_instance *inst = vnm_loader_get(d->loader, i);
        json_t *counters = json_object();

        for (size_t j = 0; j < inst->n_counters; j++) {
            json_object_set_new(counters, inst->counters[j].name,
                                json_integer((json_int_t)
                                             inst->counters[j].value));
        }
        json_array_append_new(array, json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:o}",
            "name", inst->name,
            "kind", vnm_plugin_kind_name(inst->desc->kind),
            "plugin", inst->desc->name,
            "version", inst->desc->version,
            "path", inst->path,
            "counters", counters));
    }
    return array;
}

static json_t *
counters_json(void)
{
    json_t *obj = json_object();
    const struct vnm_counter *c;

    for (c = vnm_counter_first(); c; c = c->next) {
        json_object_set_new(obj, c->name,
                            json_integer((json_int_t) vnm_counter_read(c)));
    }
    return obj;
}

static json_t *
status_json(struct vnm_daemon *d, const char *state)
{
    struct vnm_redis_stats rs;
    json_t *status;

    vnm_redis_get_stats(d->redis, &rs);
    status = json_pack(
        "{s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s,"
        " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "name", d->spec->name,
        "host", d->host_id,
        "pid", (json_int_t) getpid(),
        "version", PACKAGE_VERSION,
        "state", state,
        "started_ms", (json_int_t) d->started_ms,
        "heartbeat_ms", (json_int_t) vnm_time_wall_ms(),
        "heartbeat_interval_ms", (json_int_t) d->heartbeat_ms,
        "config", d->config_file,
        "plugin_dir", vnm_loader_plugin_dir(d->loader),
        "redis_address", vnm_redis_address(d->redis),
        "redis_connected_since_ms", (json_int_t) rs.connected_since_ms,
        "redis_connects", (json_int_t) rs.n_connects,
        "redis_outages", (json_int_t) rs.n_outages,
        "redis_outage_start_ms", (json_int_t) rs.outage_start_ms,
        "redis_last_outage_ms", (json_int_t) rs.last_outage_ms,
        "redis_commands", (json_int_t) rs.n_commands,
        "redis_dropped", (json_int_t) rs.n_dropped,
        "redis_errors", (json_int_t) rs.n_errors,
        "log_warnings", (json_int_t) vnm_log_count(VNM_LOG_WARN),
        "log_errors", (json_int_t) vnm_log_count(VNM_LOG_ERR));
    json_object_set_new(status, "plugins", plugins_json(d));
    json_object_set_new(status, "counters", counters_json());
    if (d->spec->status) {
        d->spec->status(d->aux, d, status);
    }
    return status;
}

/* Writes the status record as one HSET, nested values as JSON text. */
static void
publish_status(struct vnm_daemon *d, const char *state)
{
    json_t *status;
    const char *key;
    json_t *value;
    size_t n, i = 0;
    const char **argv;
    size_t *argvlen;
    char **owned;
    char *member;

    if (!vnm_redis_is_connected(d->redis)) {
        return;
    }
    status = status_json(d, state);
    n = 2 + 2 * json_object_size(status);
    argv = xcalloc(n, sizeof *argv);
    argvlen = xcalloc(n, sizeof *argvlen);
    owned = xcalloc(n, sizeof *owned);
    argv[i++] = "HSET";
    argv[i++] = d->status_key;
    json_object_foreach (status, key, value) {
        argv[i++] = key;
        owned[i] = (json_is_string(value) ? xstrdup(json_string_value(value))
                    : json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY));
        argv[i] = owned[i];
        i++;
    }
    for (size_t j = 0; j < i; j++) {
        argvlen[j] = strlen(argv[j]);
    }
    vnm_redis_append_argv(d->redis, (int) i, argv, argvlen);
    member = xasprintf("%s/%s", d->host_id, d->spec->name);
    vnm_redis_append(d->redis, "SADD vnm:daemons %s", member);
    free(member);
    vnm_redis_flush(d->redis);

    for (size_t j = 0; j < n; j++) {
        free(owned[j]);
    }
    free(owned);
    free(argv);
    free(argvlen);
    json_decref(status);
}

static void
heartbeat_cb(evutil_socket_t fd, short what, void *d_)
{
    struct vnm_daemon *d = d_;

    vnm_redis_run(d->redis);
    if (d->spec->tick) {
        d->spec->tick(d->aux, d, vnm_time_wall_ms());
    }
    publish_status(d, "running");
}

static void
signal_cb(evutil_socket_t sig, short what, void *d_)
{
    struct vnm_daemon *d = d_;

    if (sig == SIGHUP) {
        int error = vnm_log_reopen();

        if (error) {
            VNM_WARN("cannot reopen log file (%s)", strerror(error));
        } else {
            VNM_INFO("log file reopened");
        }
        return;
    }
    VNM_INFO("%s received, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    event_base_loopbreak(d->base);
}

static void
daemon_uninit(struct vnm_daemon *d)
{
    if (d->heartbeat) {
        event_free(d->heartbeat);
    }
    if (d->sig_term) {
        event_free(d->sig_term);
        event_free(d->sig_int);
        event_free(d->sig_hup);
    }
    vnm_loader_destroy(d->loader);
    vnm_redis_destroy(d->redis);
    if (d->base) {
        event_base_free(d->base);
    }
    remove_pidfile(d);
    vnm_config_destroy(d->config);
    free(d->config_file);
    free(d->pidfile);
    free(d->status_key);
    if (d->ready_fd >= 0) {
        close(d->ready_fd);
    }
}

int
vnm_daemon_main(const struct vnm_daemon_spec *spec, void *aux, int argc,
                char *argv[])
{
    const char *log_target = NULL, *log_levels = NULL, *pidfile = NULL;
    struct vnm_daemon d = {
        .spec = spec, .aux = aux, .ready_fd = -1,
    };
    struct timeval tv;
    char *error;
    int status;
    int retval;

    vnm_set_program_name(argv[0]);
    status = parse_options(&d, argc, argv, &log_target, &log_levels,
                           &pidfile);
    if (status >= 0) {
        free(d.config_file);
        return status;
    }
    signal(SIGPIPE, SIG_IGN);

    error = configure(&d, log_target, log_levels, pidfile);
    if (error) {
        fprintf(stderr, "vnmon-%s: %s\n", spec->name, error);
        free(error);
        daemon_uninit(&d);
        return 1;
    }
    if (d.check_only) {
        /* Loading the plugins checks their sections too. */
        d.loader = vnm_loader_create(spec->name, d.host_id, d.plugin_dir,
                                     spec->plugin_kinds, spec->emit, aux);
        vnm_loader_set_net(d.loader, spec->net);
        error = vnm_loader_load_config(d.loader, d.config);
        if (error) {
            fprintf(stderr, "vnmon-%s: %s\n", spec->name, error);
            free(error);
            daemon_uninit(&d);
            return 1;
        }
        printf("%s: configuration OK (%zu plugins)\n", d.config_file,
               vnm_loader_count(d.loader));
        daemon_uninit(&d);
        return 0;
    }

    retval = vnm_log_open(d.log_target, spec->name);
    if (retval) {
        fprintf(stderr, "vnmon-%s: %s: cannot open log (%s)\n", spec->name,
                d.log_target, strerror(retval));
        daemon_uninit(&d);
        return 1;
    }
    if (d.detach) {
        detach(&d);
    }
    error = create_pidfile(&d);
    if (error) {
        VNM_ERR("%s", error);
        if (strcmp(d.log_target, "stderr")) {
            fprintf(stderr, "vnmon-%s: %s\n", spec->name, error);
        }
        free(error);
        daemon_uninit(&d);
        return 1;
    }

    d.started_ms = vnm_time_wall_ms();
    d.status_key = vnm_daemon_status_key(d.host_id, spec->name);
    d.base = event_base_new();
    if (!d.base) {
        vnm_fatal("cannot create event loop");
    }
    d.sig_term = evsignal_new(d.base, SIGTERM, signal_cb, &d);
    d.sig_int = evsignal_new(d.base, SIGINT, signal_cb, &d);
    d.sig_hup = evsignal_new(d.base, SIGHUP, signal_cb, &d);
    event_add(d.sig_term, NULL);
    event_add(d.sig_int, NULL);
    event_add(d.sig_hup, NULL);

    d.loader = vnm_loader_create(spec->name, d.host_id, d.plugin_dir,
                                 spec->plugin_kinds, spec->emit, aux);
    vnm_loader_set_net(d.loader, spec->net);
    error = vnm_loader_load_config(d.loader, d.config);
    if (!error && spec->start) {
        error = spec->start(aux, &d);
    }
    if (error) {
        VNM_ERR("%s", error);
        if (strcmp(d.log_target, "stderr")) {
            fprintf(stderr, "vnmon-%s: %s\n", spec->name, error);
        }
        free(error);
        daemon_uninit(&d);
        vnm_log_close();
        return 1;
    }

    VNM_INFO("vnmon-%s %s started on host \"%s\" (pid %ld, config %s)",
             spec->name, PACKAGE_VERSION, d.host_id, (long) getpid(),
             d.config_file);
    vnm_redis_connect(d.redis);
    publish_status(&d, "running");

    d.heartbeat = event_new(d.base, -1, EV_PERSIST, heartbeat_cb, &d);
    tv.tv_sec = d.heartbeat_ms / 1000;
    tv.tv_usec = (d.heartbeat_ms % 1000) * 1000;
    event_add(d.heartbeat, &tv);
    notify_ready(&d);

    event_base_dispatch(d.base);

    if (spec->stop) {
        spec->stop(aux, &d);
    }
    publish_status(&d, "stopped");
    VNM_INFO("vnmon-%s stopped", spec->name);
    daemon_uninit(&d);
    vnm_log_close();
    return 0;
}
