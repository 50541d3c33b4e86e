/*
 * libmacp benchmark, C ABI side. Run by benches/run.sh against a local
 * runtime at $MACP_TARGET; prints one JSON object on stdout.
 *
 *   capi_bench latency N            sequential sends: p50/p99 in microseconds
 *   capi_bench throughput T N       one client, T threads each sending N messages
 *                                   into sessions of its own: messages/second
 *   capi_bench throughput_async T N one client, one thread, T asynchronous sends
 *                                   in flight (N per stream of sessions)
 *
 * Sends go into a fresh session every PER_SESSION messages, as in the other
 * benchmark programs, sessions started before the clock. The latency and
 * throughput modes also report the process's CPU time (user, sys) and
 * context switches (voluntary, involuntary) per send over the timed sends,
 * from getrusage(RUSAGE_SELF), all threads of the process.
 *   capi_bench watch N              session watcher: send->callback latency of N
 *                                   live envelopes, then events/second replaying
 *                                   them into a callback
 *   capi_bench idle                 RSS before and after one connected client
 *   capi_bench watchers N           RSS with N open watchers
 *   capi_bench first_call           time from process start of the library to
 *                                   the first acknowledged message
 *   capi_bench scale N D M          N session watchers in one process (one per
 *                                   session, sessions started before): threads,
 *                                   RSS per idle watcher, then events/second
 *                                   delivered while D of the sessions get M
 *                                   messages each; every session's envelopes
 *                                   are counted for loss and repetition
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "macp.h"

static const char *target;

/* Messages sent into one session before moving to a fresh one. The runtime's
 * cost per message grows with a session's history, so every client under
 * comparison sends the same number per session. */
#define PER_SESSION 100

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static struct rusage usage_now(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r;
}

static double tv_us(struct timeval t) { return t.tv_sec * 1e6 + t.tv_usec; }

/* The JSON fields of the process's CPU time and context switches per send
 * since `before`, over n sends. */
static void cpu_json(char *out, size_t len, const struct rusage *before, int n) {
    struct rusage a = usage_now();
    snprintf(out, len,
             "\"user_us_per_msg\": %.3f, \"sys_us_per_msg\": %.3f, \"vcsw_per_msg\": %.4f, \"ivcsw_per_msg\": %.4f",
             (tv_us(a.ru_utime) - tv_us(before->ru_utime)) / n, (tv_us(a.ru_stime) - tv_us(before->ru_stime)) / n,
             (double)(a.ru_nvcsw - before->ru_nvcsw) / n, (double)(a.ru_nivcsw - before->ru_nivcsw) / n);
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

static void die(macp_status st, macp_error *err, const char *what) {
    if (st == MACP_STATUS_OK) return;
    fprintf(stderr, "%s: %s: %s\n", what, macp_status_name(st), macp_error_message(err));
    exit(1);
}

static macp_client *connect_as(const char *identity) {
    macp_client_options *o = NULL;
    macp_client *c = NULL;
    macp_error *err = NULL;
    die(macp_client_options_new(&o, &err), err, "options");
    die(macp_client_options_set_target(o, target, &err), err, "target");
    die(macp_client_options_set_allow_insecure(o, true, &err), err, "insecure");
    die(macp_client_options_set_bearer_token(o, identity, &err), err, "token");
    die(macp_client_new(o, &c, NULL, &err), err, "connect");
    macp_client_options_free(o);
    return c;
}

static macp_session *start(macp_client *c) {
    macp_start_options *so = NULL;
    macp_session *s = NULL;
    macp_error *err = NULL;
    die(macp_start_options_new(&so, &err), err, "start options");
    die(macp_start_options_add_participant(so, "bench", &err), err, "participant");
    die(macp_start_options_set_ttl_ms(so, 3600000, &err), err, "ttl");
    die(macp_session_start(c, MACP_MODE_DECISION, so, &s, NULL, NULL, &err), err, "start");
    macp_start_options_free(so);
    return s;
}

/* A Decision ProposalPayload {proposal_id, option: "x"}, encoded by hand:
 * the same bytes the bare tonic benchmark sends. */
static size_t proposal(uint8_t *buf, const char *id) {
    size_t n = strlen(id), k = 0;
    buf[k++] = 0x0a;
    buf[k++] = (uint8_t)n;
    memcpy(buf + k, id, n);
    k += n;
    buf[k++] = 0x12;
    buf[k++] = 1;
    buf[k++] = 'x';
    return k;
}

static void send_proposal(macp_session *s, const char *id) {
    uint8_t buf[160];
    size_t len = proposal(buf, id);
    macp_error *err = NULL;
    die(macp_session_send(s, "Proposal", buf, len, NULL, NULL, &err), err, "send");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* `count` sessions started before timing, each to take PER_SESSION sends. */
static macp_session **start_many(macp_client *c, int count) {
    macp_session **s = malloc(sizeof *s * count);
    for (int i = 0; i < count; i++) s[i] = start(c);
    return s;
}

static void free_many(macp_session **s, int count) {
    for (int i = 0; i < count; i++) macp_session_free(s[i]);
    free(s);
}

/* WARMUP sends first (into sessions of their own), then N sequential sends,
 * their sessions started before the clock. */
#define WARMUP 200

static void latency(int n) {
    macp_client *c = connect_as("bench");
    char id[64];
    int warm = WARMUP / PER_SESSION, per = (n + PER_SESSION - 1) / PER_SESSION;
    macp_session **w = start_many(c, warm);
    for (int i = 0; i < WARMUP; i++) {
        snprintf(id, sizeof id, "w%d", i);
        send_proposal(w[i / PER_SESSION], id);
    }
    macp_session **s = start_many(c, per);
    double *lat = malloc(sizeof(double) * n);
    struct rusage r0 = usage_now();
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "p%d", i);
        double t0 = now_us();
        send_proposal(s[i / PER_SESSION], id);
        lat[i] = now_us() - t0;
    }
    char cpu[256];
    cpu_json(cpu, sizeof cpu, &r0, n);
    qsort(lat, n, sizeof(double), cmp_double);
    printf("{\"p50_us\": %.1f, \"p99_us\": %.1f, \"n\": %d, %s}\n", lat[n / 2], lat[(int)(n * 0.99)], n, cpu);
    free(lat);
    free_many(w, warm);
    free_many(s, per);
    macp_client_free(c);
}

struct worker {
    macp_session **sessions; /* n / PER_SESSION + 1 of its own */
    int index, n;
};

static void *worker_main(void *arg) {
    struct worker *w = arg;
    char id[64];
    for (int i = 0; i < w->n; i++) {
        snprintf(id, sizeof id, "t%d-%d", w->index, i);
        send_proposal(w->sessions[i / PER_SESSION], id);
    }
    return NULL;
}

/* One client shared by `threads` blocking threads, each sending N messages
 * into sessions of its own. */
static void throughput(int threads, int n) {
    macp_client *c = connect_as("bench");
    int per = n / PER_SESSION + 1;
    macp_session **all = start_many(c, threads * per);
    pthread_t *t = malloc(sizeof(pthread_t) * threads);
    struct worker *w = malloc(sizeof(struct worker) * threads);
    struct rusage r0 = usage_now();
    double t0 = now_us();
    for (int i = 0; i < threads; i++) {
        w[i] = (struct worker){all + i * per, i, n};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    double secs = (now_us() - t0) / 1e6;
    char cpu[256];
    cpu_json(cpu, sizeof cpu, &r0, threads * n);
    printf("{\"msgs_per_sec\": %.1f, \"threads\": %d, \"n\": %d, %s}\n", threads * n / secs, threads, threads * n,
           cpu);
    free(t);
    free(w);
    free_many(all, threads * per);
    macp_client_free(c);
}

struct window {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int in_flight, done, failed;
};

static void on_sent(macp_status status, const macp_ack *ack, const macp_error *error, void *user_data) {
    (void)ack;
    (void)error;
    struct window *w = user_data;
    pthread_mutex_lock(&w->mu);
    w->in_flight--;
    w->done++;
    w->failed += status != MACP_STATUS_OK;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* One thread keeps up to `streams` asynchronous sends in flight, message i
 * of stream s going into that stream's sessions, N messages per stream. */
static void throughput_async(int streams, int n) {
    macp_client *c = connect_as("bench");
    int per = n / PER_SESSION + 1;
    macp_session **all = start_many(c, streams * per);
    struct window w = {.in_flight = 0};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    uint8_t buf[160];
    char id[64];
    macp_error *err = NULL;
    struct rusage r0 = usage_now();
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
        for (int s = 0; s < streams; s++) {
            pthread_mutex_lock(&w.mu);
            while (w.in_flight >= streams) pthread_cond_wait(&w.cv, &w.mu);
            w.in_flight++;
            pthread_mutex_unlock(&w.mu);
            snprintf(id, sizeof id, "t%d-%d", s, i);
            size_t len = proposal(buf, id);
            die(macp_session_send_async(all[s * per + i / PER_SESSION], "Proposal", buf, len, on_sent, &w, NULL,
                                        &err),
                err, "send_async");
        }
    }
    pthread_mutex_lock(&w.mu);
    while (w.done < streams * n) pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    double secs = (now_us() - t0) / 1e6;
    char cpu[256];
    cpu_json(cpu, sizeof cpu, &r0, streams * n);
    if (w.failed) {
        fprintf(stderr, "%d async sends failed\n", w.failed);
        exit(1);
    }
    printf("{\"msgs_per_sec\": %.1f, \"in_flight\": %d, \"n\": %d, %s}\n", streams * n / secs, streams,
           streams * n, cpu);
    free_many(all, streams * per);
    macp_client_free(c);
}

struct watch_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int received;
    int target;
    double *sent_at; /* indexed by sequence */
    double lat_sum;
    double first, last;
};

static void on_event(const macp_event *ev, void *user_data) {
    struct watch_state *st = user_data;
    if (ev->kind != MACP_EVENT_ENVELOPE) return;
    double t = now_us();
    pthread_mutex_lock(&st->mu);
    if (st->received == 0) st->first = t;
    st->last = t;
    if (ev->sequence < (uint64_t)st->target + 2 && st->sent_at[ev->sequence] > 0)
        st->lat_sum += t - st->sent_at[ev->sequence];
    st->received++;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

static void wait_for(struct watch_state *st, int n) {
    pthread_mutex_lock(&st->mu);
    while (st->received < n) pthread_cond_wait(&st->cv, &st->mu);
    pthread_mutex_unlock(&st->mu);
}

/* Phase 1, live: send N messages one by one into a watched session and
 * average the time from send to callback. Phase 2, delivery rate: a second
 * watcher replays the same N envelopes from the start as fast as the stream
 * and the callback thread carry them. */
static void watch_bench(int n) {
    macp_client *c = connect_as("bench");
    macp_session *s = start(c);
    struct watch_state live = {.target = n}, replay = {.target = n};
    pthread_mutex_init(&live.mu, NULL);
    pthread_cond_init(&live.cv, NULL);
    pthread_mutex_init(&replay.mu, NULL);
    pthread_cond_init(&replay.cv, NULL);
    live.sent_at = calloc(n + 2, sizeof(double));
    replay.sent_at = calloc(n + 2, sizeof(double));
    macp_watcher *w = NULL, *r = NULL;
    macp_error *err = NULL;
    macp_watch_options opts = macp_watch_options_default();
    opts.queue_capacity = 4096;
    die(macp_session_watch(s, 1 /* skip SessionStart */, &opts, on_event, &live, &w, NULL, &err), err, "watch");
    char id[64];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "p%d", i);
        pthread_mutex_lock(&live.mu);
        live.sent_at[i + 2] = now_us(); /* ordinal 1 is SessionStart */
        pthread_mutex_unlock(&live.mu);
        send_proposal(s, id);
        wait_for(&live, i + 1);
    }
    double t0 = now_us();
    die(macp_session_watch(s, 1, &opts, on_event, &replay, &r, NULL, &err), err, "watch");
    wait_for(&replay, n);
    double secs = (now_us() - t0) / 1e6;
    printf("{\"events_per_sec\": %.1f, \"send_to_callback_us\": %.1f, \"n\": %d}\n", n / secs,
           live.lat_sum / n, n);
    macp_watcher_close(w);
    macp_watcher_close(r);
    free(live.sent_at);
    free(replay.sent_at);
    macp_session_free(s);
    macp_client_free(c);
}

static void idle(void) {
    long before = rss_kib();
    macp_client *c = connect_as("bench");
    long after = rss_kib();
    printf("{\"rss_before_kib\": %ld, \"rss_after_kib\": %ld, \"client_kib\": %ld}\n", before, after,
           after - before);
    macp_client_free(c);
}

static void noop(const macp_event *ev, void *user_data) {
    (void)ev;
    (void)user_data;
}

static void watchers(int n) {
    macp_client *c = connect_as("bench");
    macp_session *s = start(c);
    long before = rss_kib();
    macp_watcher **w = calloc(n, sizeof *w);
    macp_error *err = NULL;
    for (int i = 0; i < n; i++) die(macp_session_watch(s, 0, NULL, noop, NULL, &w[i], NULL, &err), err, "watch");
    send_proposal(s, "after-watchers");
    long after = rss_kib();
    printf("{\"watchers\": %d, \"rss_before_kib\": %ld, \"rss_after_kib\": %ld, \"per_watcher_kib\": %.1f}\n", n,
           before, after, (after - before) / (double)n);
    for (int i = 0; i < n; i++) macp_watcher_close(w[i]);
    free(w);
    macp_session_free(s);
    macp_client_free(c);
}

static long threads_now(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long n = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Threads:", 8) == 0) n = strtol(line + 8, NULL, 10);
    fclose(f);
    return n;
}

/* One watched session of the scale benchmark. Written only by its watcher's
 * callback (callbacks of one watcher never overlap); read by main under
 * scale_mu once scale_done says so. */
struct scaled {
    uint64_t last;   /* ordinal of the last envelope delivered */
    int received;    /* envelopes delivered */
    int out_of_order;/* envelopes whose ordinal was not last + 1 */
    int closed;      /* CLOSED events */
};

static pthread_mutex_t scale_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t scale_cv = PTHREAD_COND_INITIALIZER;
static long scale_delivered; /* envelopes delivered, all watchers */
static double scale_last_us;

static void on_scaled(const macp_event *ev, void *user_data) {
    struct scaled *w = user_data;
    if (ev->kind == MACP_EVENT_CLOSED) {
        w->closed++;
        return;
    }
    if (ev->kind != MACP_EVENT_ENVELOPE) return;
    if (ev->sequence != w->last + 1) w->out_of_order++;
    w->last = ev->sequence;
    w->received++;
    double t = now_us();
    pthread_mutex_lock(&scale_mu);
    scale_delivered++;
    scale_last_us = t;
    pthread_cond_broadcast(&scale_cv);
    pthread_mutex_unlock(&scale_mu);
}

static void scale_wait(long total) {
    pthread_mutex_lock(&scale_mu);
    while (scale_delivered < total) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 60;
        if (pthread_cond_timedwait(&scale_cv, &scale_mu, &until) != 0) {
            fprintf(stderr, "scale: stalled at %ld of %ld envelopes\n", scale_delivered, total);
            exit(1);
        }
    }
    pthread_mutex_unlock(&scale_mu);
}

/* N sessions are started and each gets one Proposal before any watcher
 * exists; then one watcher per session subscribes after SessionStart, so its
 * first event is that Proposal, replayed: once all N have arrived every
 * stream is open, and the RSS and thread count are those of N idle
 * watchers. Then D sessions get M more messages each (asynchronous sends,
 * 64 in flight) and the rate is envelopes delivered over the time from the
 * first send to the last callback. Every session must end with exactly its
 * sent envelopes, ordinals in order. */
static void scale(int n, int driven, int m) {
    if (driven > n) driven = n;
    macp_client *c = connect_as("bench");
    macp_session **s = start_many(c, n);
    char id[64];
    for (int i = 0; i < n; i++) send_proposal(s[i], "warm");
    struct scaled *st = calloc(n, sizeof *st);
    macp_watcher **w = calloc(n, sizeof *w);
    for (int i = 0; i < n; i++) st[i].last = 1; /* SessionStart */
    long threads_before = threads_now(), rss_before = rss_kib();
    macp_error *err = NULL;
    double t_open = now_us();
    for (int i = 0; i < n; i++) die(macp_session_watch(s[i], 1, NULL, on_scaled, &st[i], &w[i], NULL, &err), err, "watch");
    scale_wait(n);
    double open_secs = (now_us() - t_open) / 1e6;
    long threads_idle = threads_now(), rss_idle = rss_kib();

    struct window win = {.in_flight = 0};
    pthread_mutex_init(&win.mu, NULL);
    pthread_cond_init(&win.cv, NULL);
    uint8_t buf[160];
    double t0 = now_us();
    for (int k = 0; k < m; k++) {
        for (int d = 0; d < driven; d++) {
            pthread_mutex_lock(&win.mu);
            while (win.in_flight >= 64) pthread_cond_wait(&win.cv, &win.mu);
            win.in_flight++;
            pthread_mutex_unlock(&win.mu);
            snprintf(id, sizeof id, "m%d", k);
            size_t len = proposal(buf, id);
            die(macp_session_send_async(s[d], "Proposal", buf, len, on_sent, &win, NULL, &err), err, "send_async");
        }
    }
    scale_wait(n + (long)driven * m);
    double secs = (scale_last_us - t0) / 1e6;
    long threads_busy = threads_now();
    pthread_mutex_lock(&win.mu);
    while (win.done < driven * m) pthread_cond_wait(&win.cv, &win.mu);
    pthread_mutex_unlock(&win.mu);
    if (win.failed) {
        fprintf(stderr, "scale: %d sends failed\n", win.failed);
        exit(1);
    }
    for (int i = 0; i < n; i++) macp_watcher_close(w[i]);
    long lost = 0, repeated = 0, out_of_order = 0, closed_early = 0;
    for (int i = 0; i < n; i++) {
        long want = 1 + (i < driven ? m : 0);
        if (st[i].received < want) lost += want - st[i].received;
        if (st[i].received > want) repeated += st[i].received - want;
        out_of_order += st[i].out_of_order;
        closed_early += st[i].closed;
    }
    printf("{\"watchers\": %d, \"driven\": %d, \"per_session\": %d, \"threads_before\": %ld, "
           "\"threads_idle\": %ld, \"threads_busy\": %ld, \"rss_before_kib\": %ld, \"rss_idle_kib\": %ld, "
           "\"rss_per_watcher_kib\": %.2f, \"open_secs\": %.2f, \"events_per_sec\": %.1f, \"lost\": %ld, "
           "\"repeated\": %ld, \"out_of_order\": %ld, \"closed_early\": %ld}\n",
           n, driven, m, threads_before, threads_idle, threads_busy, rss_before, rss_idle,
           (rss_idle - rss_before) / (double)n, open_secs, driven * m / secs, lost, repeated, out_of_order,
           closed_early);
    free(st);
    free(w);
    free_many(s, n);
    macp_client_free(c);
    if (lost || repeated || out_of_order || closed_early) exit(1);
}

static void first_call(void) {
    double t0 = now_us();
    macp_client *c = connect_as("bench");
    double t1 = now_us();
    macp_session *s = start(c);
    double t2 = now_us();
    printf("{\"connect_us\": %.1f, \"first_ack_us\": %.1f}\n", t1 - t0, t2 - t0);
    macp_session_free(s);
    macp_client_free(c);
}

int main(int argc, char **argv) {
    target = getenv("MACP_TARGET");
    if (!target || argc < 2) {
        fprintf(stderr, "usage: MACP_TARGET=host:port capi_bench MODE [ARGS]\n");
        return 2;
    }
    const char *mode = argv[1];
    int a = argc > 2 ? atoi(argv[2]) : 0, b = argc > 3 ? atoi(argv[3]) : 0;
    if (strcmp(mode, "latency") == 0) latency(a > 0 ? a : 2000);
    else if (strcmp(mode, "throughput") == 0) throughput(a > 0 ? a : 8, b > 0 ? b : 500);
    else if (strcmp(mode, "throughput_async") == 0) throughput_async(a > 0 ? a : 8, b > 0 ? b : 500);
    else if (strcmp(mode, "watch") == 0) watch_bench(a > 0 ? a : 2000);
    else if (strcmp(mode, "idle") == 0) idle();
    else if (strcmp(mode, "watchers") == 0) watchers(a > 0 ? a : 100);
    else if (strcmp(mode, "first_call") == 0) first_call();
    else if (strcmp(mode, "scale") == 0)
        scale(a > 0 ? a : 10000, b > 0 ? b : 100, argc > 4 && atoi(argv[4]) > 0 ? atoi(argv[4]) : 100);
    else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
