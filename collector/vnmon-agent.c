/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vnmon-agent: the per-hypervisor daemon.  It hosts ovs-ext (OVS inventory,
 * taps, decoding, flow table, nDPI) and the collector (bandwidth, conntrack
 * and flow records into Redis), and loads enricher plugins that label flow
 * records before they are published.
 *
 * Two modes:
 *   vnmon-agent [--config FILE] ...        the daemon (lib/daemon.c);
 *   vnmon-agent --read FILE [--read FILE...] [--output FILE]
 *                                          offline: a capture through the
 *                                          same pipeline, flow records out
 *                                          as JSON lines (doc/flow-record.md).
 */
#include <config.h>

#include <errno.h>
#include <jansson.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lib/conf.h"
#include "lib/daemon.h"
#include "lib/flow-codec.h"
#include "lib/log.h"
#include "lib/redis.h"
#include "lib/loader.h"
#include "lib/counter.h"
#include "collector/agent-bw.h"
#include "collector/conntrack.h"
#include "collector/prometheus.h"
#include "ovs-ext/decode.h"
#include "ovs-ext/ovs-ext.h"
#include "ovs-ext/pipeline.h"
#include "ovs-ext/quarantine.h"

VNM_LOG_MODULE(agent);

VNM_COUNTER_DEFINE(flow_records);
VNM_COUNTER_DEFINE(flow_records_streamed);

/* The daemon's state. */
struct agent {
    struct vnm_daemon *daemon;
    struct ovs_ext_config cfg;
    bool cfg_read;
    struct pipeline *pipeline;
    FILE *records_file;         /* [flows] records_file, or null. */
    char *records_buf;
    size_t records_size;
    int64_t stream_maxlen;      /* [collector] stream_maxlen, 0 = off. */
    char *stream_key;           /* "vnm:{HOST}:flows". */
    char maxlen_str[24];
    struct agent_bw_config bw_cfg; /* [collector] bandwidth keys. */
    struct agent_bw *bw;        /* Bandwidth series, recent flows. */
    struct prometheus_config prom_cfg; /* [collector] prometheus_listen. */
    struct prometheus *prom;    /* GET /metrics, or null. */
    struct conntrack_config ct_cfg; /* [collector] conntrack keys. */
    struct conntrack *ct;       /* Connection tracking, or null. */
    struct quarantine_config q_cfg; /* [quarantine]. */
    struct quarantine *quarantine; /* Drop rules of quarantined ports. */
};

/* Appends 'rec' (as a JSON line, in 'a->records_buf') to the host's flow
 * stream, trimmed to about 'stream_maxlen' entries.  Pipelined: the
 * daemon's heartbeat flushes it, one round trip a second. */
static void
stream_record(struct agent *a, size_t len)
{
    const char *argv[] = {
        "XADD", a->stream_key, "MAXLEN", "~", a->maxlen_str, "*", "r",
        a->records_buf,
    };
    size_t argvlen[VNM_ARRAY_SIZE(argv)];

    for (size_t i = 0; i < VNM_ARRAY_SIZE(argv); i++) {
        argvlen[i] = strlen(argv[i]);
    }
    argvlen[VNM_ARRAY_SIZE(argv) - 1] = len - 1;     /* No newline. */
    if (!vnm_redis_append_argv(vnm_daemon_redis(a->daemon),
                               (int) VNM_ARRAY_SIZE(argv), argv, argvlen)) {
        VNM_COUNTER_INC(flow_records_streamed);
    }
}

/* Appends the JSON line in 'a->records_buf' ('len' bytes) to the records
 * file. */
static void
write_record(struct agent *a, size_t len)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(2, 2);

    if (fwrite(a->records_buf, 1, len, a->records_file) != len
        || fflush(a->records_file)) {
        VNM_WARN_RL(&rl, "%s: cannot write flow record (%s)",
                    a->cfg.records_file, strerror(errno));
    }
}

/* Each finished flow record: enrichers label it, then the collector takes
 * it. */
static void
agent_record(void *a_, const struct vnm_flow *rec)
{
    struct agent *a = a_;
    struct vnm_loader *loader = vnm_daemon_loader(a->daemon);
    struct vnm_flow copy;
    bool copied = false;

    for (size_t i = 0; i < vnm_loader_count(loader); i++) {
        struct vnm_plugin_instance *inst = vnm_loader_get(loader, i);

        if (inst->desc->kind == VNM_PLUGIN_ENRICHER) {
            if (!copied) {
                copy = *rec;
                copied = true;
            }
            inst->desc->enricher->enrich(inst->state, &copy, &copy.labels);
        }
    }
    VNM_COUNTER_INC(flow_records);
    if (a->records_file || a->stream_maxlen || a->bw) {
        size_t len = 0;

        flow_to_jsonl(copied ? &copy : rec, vnm_daemon_host_id(a->daemon),
                      &a->records_buf, &a->records_size, &len);
        if (a->records_file) {
            write_record(a, len);
        }
        if (a->stream_maxlen) {
            stream_record(a, len);
        }
        if (a->bw) {
            agent_bw_record(a->bw, copied ? &copy : rec, a->records_buf,
                            len - 1);
        }
    }
}

static char *
agent_configure(void *a_, struct vnm_daemon *d,
                const struct vnm_config *config)
{
    struct agent *a = a_;
    char *error;

    a->daemon = d;
    error = ovs_ext_config_read(config, &a->cfg);
    a->cfg_read = true;
    if (!error) {
        const struct vnm_conf *c = vnm_config_section(config, "collector",
                                                      NULL);

        error = vnm_conf_get_int(c, "stream_maxlen", 100000, 0, 100000000,
                                 &a->stream_maxlen);
        if (!error) {
            error = agent_bw_config_read(c, &a->bw_cfg);
        }
        if (!error) {
            error = prometheus_config_read(c, &a->prom_cfg);
        }
        if (!error) {
            error = conntrack_config_read(c, &a->ct_cfg);
        }
        if (!error) {
            error = vnm_conf_check_unused(c);
        }
    }
    if (!error) {
        error = quarantine_config_read(vnm_config_section(config,
                                                          "quarantine", NULL),
                                       &a->q_cfg);
    }
    snprintf(a->maxlen_str, sizeof a->maxlen_str, "%"PRId64,
             a->stream_maxlen);
    free(a->stream_key);
    a->stream_key = xasprintf("vnm:{%s}:flows", vnm_daemon_host_id(d));
    return error;
}

static prometheus_render_func agent_metrics;

static char *
agent_start(void *a_, struct vnm_daemon *d)
{
    struct agent *a = a_;
    char *error;

    /* First: a port already taken fails the start before anything else is
     * allocated. */
    if (a->prom_cfg.listen) {
        error = prometheus_create(&a->prom_cfg, vnm_daemon_event_base(d),
                                  vnm_daemon_host_id(d), agent_metrics, a,
                                  &a->prom);
        if (error) {
            return error;
        }
    }

    if (a->cfg.records_file) {
        a->records_file = fopen(a->cfg.records_file, "ae");
        if (!a->records_file) {
            return xasprintf("%s: cannot open records file (%s)",
                             a->cfg.records_file, strerror(errno));
        }
    }
    a->bw = agent_bw_create(&a->bw_cfg, vnm_daemon_host_id(d),
                            vnm_daemon_redis(d));
    error = pipeline_create(&a->cfg, vnm_daemon_event_base(d),
                            vnm_daemon_redis(d), vnm_daemon_host_id(d),
                            agent_record, a, agent_bw_callbacks(a->bw),
                            &a->pipeline);
    agent_bw_set_pipeline(a->bw, a->pipeline);
    if (!error) {
        a->ct = conntrack_create(&a->ct_cfg, vnm_daemon_event_base(d),
                                 vnm_daemon_redis(d), vnm_daemon_host_id(d),
                                 pipeline_inventory(a->pipeline),
                                 a->cfg.rundir);
        a->q_cfg.host_id = vnm_daemon_host_id(d);
        a->q_cfg.rundir = a->cfg.rundir;
        a->quarantine = quarantine_create(&a->q_cfg);
        quarantine_run(a->quarantine, vnm_daemon_redis(d),
                       pipeline_inventory(a->pipeline));
    }
    return error;
}

/* Every second, before the heartbeat flushes the Redis pipeline: one
 * round trip carries the bandwidth series, the flow records and the
 * status. */
static void
agent_tick(void *a_, struct vnm_daemon *d, uint64_t now_ms)
{
    struct agent *a = a_;

    if (a->bw) {
        agent_bw_tick(a->bw, now_ms);
    }
    conntrack_run(a->ct, now_ms);
    if (a->quarantine) {
        quarantine_run(a->quarantine, vnm_daemon_redis(d),
                       pipeline_inventory(a->pipeline));
    }
}

static void
agent_status(void *a_, struct vnm_daemon *d, json_t *status)
{
    struct agent *a = a_;

    if (a->pipeline) {
        pipeline_status(a->pipeline, status);
    }
    if (a->bw) {
        agent_bw_status(a->bw, status);
    }
    conntrack_status(a->ct, status);
    if (a->quarantine) {
        quarantine_status(a->quarantine, status);
    }
}

/* GET /metrics (collector/prometheus.h): the status record's counters,
 * Redis, plugins, and the bandwidth totals of ports, VMs and tenants. */
static void
agent_metrics(void *a_, struct prom_writer *w)
{
    struct agent *a = a_;
    struct vnm_redis_stats rs;
    json_t *status = json_object();

    agent_status(a, a->daemon, status);
    prom_write_agent_status(w, status);
    json_decref(status);
    vnm_redis_get_stats(vnm_daemon_redis(a->daemon), &rs);
    prom_write_redis(w, &rs);
    prom_write_plugins(w, vnm_daemon_loader(a->daemon));
    prom_write_daemon(w);
    if (a->bw) {
        bw_foreach_total(agent_bw_aggregator(a->bw), prom_write_bw_total, w);
    }
}

static void
agent_stop(void *a_, struct vnm_daemon *d)
{
    struct agent *a = a_;

    prometheus_destroy(a->prom);
    a->prom = NULL;
    quarantine_destroy(a->quarantine, vnm_daemon_redis(d));
    a->quarantine = NULL;
    conntrack_destroy(a->ct);   /* Before the inventory it borrows. */
    a->ct = NULL;
    pipeline_destroy(a->pipeline);
    a->pipeline = NULL;
    agent_bw_destroy(a->bw);    /* After the pipeline's last deltas. */
    a->bw = NULL;
    if (a->records_file) {
        fclose(a->records_file);
        a->records_file = NULL;
    }
    free(a->records_buf);
    a->records_buf = NULL;
    free(a->stream_key);
    a->stream_key = NULL;
}

/* Where offline records go. */
struct jsonl_out {
    FILE *file;
    char *buf;
    size_t size, len;
    bool failed;
};

static void
jsonl_flush(struct jsonl_out *out)
{
    if (out->len && fwrite(out->buf, 1, out->len, out->file) != out->len) {
        out->failed = true;
    }
    out->len = 0;
}

static void
jsonl_record(void *out_, const struct vnm_flow *rec)
{
    struct jsonl_out *out = out_;

    flow_to_jsonl(rec, NULL, &out->buf, &out->size, &out->len);
    if (out->len >= 1 << 16) {
        jsonl_flush(out);
    }
}

static void
offline_usage(void)
{
    printf("usage: vnmon-agent --read FILE [--read FILE...] [OPTIONS]\n"
           "Runs capture files (pcap or pcapng) through the agent's decoder,\n"
           "flow table and nDPI, and writes the flow records as JSON lines.\n"
           "\n"
           "  -r, --read=FILE      a capture to read (repeatable)\n"
           "  -o, --output=FILE    where records go (default: stdout)\n"
           "  -c, --config=FILE    agent configuration ([flows], [networks])\n"
           "      --no-tap-tag     do not take an outer 802.1ad tag as the\n"
           "                       flow tap's port index\n"
           "  -q, --quiet          no summary on stderr\n"
           "      --log-level=SPEC e.g. warn or offline:dbg\n");
}

/* `vnmon-agent --read ...`.  Returns the exit status. */
static int
offline_main(int argc, char *argv[])
{
    static const struct option options[] = {
        { "read", required_argument, NULL, 'r' },
        { "output", required_argument, NULL, 'o' },
        { "config", required_argument, NULL, 'c' },
        { "no-tap-tag", no_argument, NULL, 'T' },
        { "quiet", no_argument, NULL, 'q' },
        { "log-level", required_argument, NULL, 'L' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct ovs_ext_offline_stats stats;
    struct ovs_ext_offline *off;
    struct rusage ru;
    struct jsonl_out out = { .file = stdout };
    struct vnm_config *config = NULL;
    struct ovs_ext_config cfg;
    const char *output = NULL, *config_file = NULL;
    const char **files = NULL;
    size_t n_files = 0;
    bool no_tap_tag = false, quiet = false;
    char *error = NULL;
    int status = 0;
    int c;

    while ((c = getopt_long(argc, argv, "r:o:c:qh", options, NULL)) != -1) {
        switch (c) {
        case 'r':
            files = xrealloc(files, (n_files + 1) * sizeof *files);
            files[n_files++] = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'c':
            config_file = optarg;
            break;
        case 'T':
            no_tap_tag = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'L':
            error = vnm_log_set_levels(optarg);
            if (error) {
                fprintf(stderr, "vnmon-agent: --log-level: %s\n", error);
                free(error);
                free(files);
                return 2;
            }
            break;
        case 'h':
            offline_usage();
            free(files);
            return 0;
        default:
            fprintf(stderr, "Try 'vnmon-agent --read FILE --help'.\n");
            free(files);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vnmon-agent: unexpected argument \"%s\"\n",
                argv[optind]);
        free(files);
        return 2;
    }

    if (config_file) {
        error = vnm_config_load(config_file, &config);
    } else {
        config = vnm_config_create_empty("(defaults)");
    }
    if (!error) {
        error = ovs_ext_config_read(config, &cfg);
    }
    if (error) {
        fprintf(stderr, "vnmon-agent: %s\n", error);
        free(error);
        vnm_config_destroy(config);
        free(files);
        return 1;
    }
    if (output && !(out.file = fopen(output, "we"))) {
        fprintf(stderr, "vnmon-agent: %s: cannot create (%s)\n", output,
                strerror(errno));
        status = 1;
        goto exit;
    }

    off = ovs_ext_offline_create(&cfg, no_tap_tag, jsonl_record, &out);
    for (size_t i = 0; i < n_files; i++) {
        error = ovs_ext_offline_read(off, files[i]);
        if (error) {
            fprintf(stderr, "vnmon-agent: %s\n", error);
            free(error);
            status = 1;
        }
    }
    ovs_ext_offline_get_stats(off, &stats);
    ovs_ext_offline_destroy(off);
    jsonl_flush(&out);
    if (fflush(out.file) || out.failed) {
        fprintf(stderr, "vnmon-agent: %s: write error (%s)\n",
                output ? output : "stdout", strerror(errno));
        status = 1;
    }
    if (!quiet) {
        fprintf(stderr, "vnmon-agent: %"PRIu64" files, %"PRIu64" frames, "
                "%"PRIu64" bytes, %"PRIu64" flows, %"PRIu64" records, "
                "%"PRIu64" malformed, %"PRIu64" unsupported, %"PRIu64
                " evicted, %.3f s, %.0f frames/s\n", stats.n_files,
                stats.n_frames, stats.n_bytes, stats.n_flows, stats.n_records,
                stats.n_malformed, stats.n_unsupported, stats.n_evicted,
                stats.seconds,
                stats.seconds > 0 ? (double) stats.n_frames / stats.seconds
                : 0.0);
        getrusage(RUSAGE_SELF, &ru);
        fprintf(stderr, "vnmon-agent: peak flow table memory %"PRIu64" bytes "
                "(cap %"PRId64"), max RSS %ld KiB\n",
                stats.peak_flow_memory, cfg.max_memory, ru.ru_maxrss);
        for (int e = 1; e < DECODE_N_ERRORS; e++) {
            if (stats.decode_errors[e]) {
                fprintf(stderr, "vnmon-agent:   malformed %s: %"PRIu64"\n",
                        decode_error_name(e), stats.decode_errors[e]);
            }
        }
    }

exit:
    if (out.file && out.file != stdout) {
        fclose(out.file);
    }
    free(out.buf);
    ovs_ext_config_uninit(&cfg);
    vnm_config_destroy(config);
    free(files);
    return status;
}

static bool
is_offline(int argc, char *argv[])
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--read") || !strncmp(argv[i], "--read=", 7)
            || !strcmp(argv[i], "-r")) {
            return true;
        }
    }
    return false;
}

int
main(int argc, char *argv[])
{
    static const char *const sections[] = { "flows", "networks", "ovs",
                                            "collector", "quarantine", NULL };
    static const char *const named[] = { "enricher", "bridge", NULL };
    static const struct vnm_daemon_spec spec = {
        .name = "agent",
        .summary = "watch the traffic of the VMs on this hypervisor's OVS "
                   "bridges",
        .sections = sections,
        .named_sections = named,
        .plugin_kinds = 1u << VNM_PLUGIN_ENRICHER,
        .configure = agent_configure,
        .start = agent_start,
        .tick = agent_tick,
        .status = agent_status,
        .stop = agent_stop,
    };
    struct agent a;
    int status;

    vnm_set_program_name(argv[0]);
    if (is_offline(argc, argv)) {
        return offline_main(argc, argv);
    }
    memset(&a, 0, sizeof a);
    status = vnm_daemon_main(&spec, &a, argc, argv);
    if (a.cfg_read) {
        ovs_ext_config_uninit(&a.cfg);
    }
    free(a.stream_key);         /* If the daemon stopped before start(). */
    return status;
}
