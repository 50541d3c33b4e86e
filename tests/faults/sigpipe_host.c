/* A C host that keeps the default SIGPIPE disposition and sends large
 * signals from several threads, whatever the runtime does. tests/sigpipe.rs
 * kills its runtime repeatedly under this load: the host must survive.
 *
 *   sigpipe_host TARGET THREADS BYTES [watch]
 *
 * With `watch` it also keeps a signal watcher open: background work, so the
 * library's I/O thread does the socket I/O; without, the sending threads do
 * it themselves inside their calls.
 *
 * Prints "ready" once connected. A line "N" on stdin is answered with the
 * number of signals the runtime has accepted so far, once it is at least N
 * (or after 60 s, whatever it is then); at end of
 * input the host stops its threads, prints "socket writes N" and exits 0.
 * A SIGPIPE raised by the library kills it with that signal instead.
 *
 * N counts the library's `write` and `writev` calls on sockets, the writes
 * that raise SIGPIPE on a connection whose peer is gone (`send` with
 * MSG_NOSIGNAL does not). On Linux the host defines both functions, so the
 * statically linked library calls these instead of libc's. */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#endif

#include "macp.h"

#define MAX_THREADS 256

static macp_client *client;
static uint8_t *data;
static size_t data_len;
static long accepted;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static atomic_bool stop;
static atomic_long socket_writes;

#ifdef __linux__
static void count_if_socket(int fd) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
        atomic_fetch_add(&socket_writes, 1);
}

ssize_t write(int fd, const void *buf, size_t n) {
    count_if_socket(fd);
    return syscall(SYS_write, fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    count_if_socket(fd);
    return syscall(SYS_writev, fd, iov, iovcnt);
}
#endif

static void on_event(const macp_event *event, void *user_data) {
    (void)event;
    (void)user_data;
}

static void *sender(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        macp_error *err = NULL;
        if (macp_client_send_signal(client, "load", data, data_len, 0.5, NULL, NULL, NULL, &err) ==
            MACP_STATUS_OK) {
            pthread_mutex_lock(&lock);
            accepted++;
            pthread_cond_broadcast(&more);
            pthread_mutex_unlock(&lock);
        }
        macp_error_free(err);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "watch") == 0)) {
        fprintf(stderr, "usage: %s TARGET THREADS BYTES [watch]\n", argv[0]);
        return 2;
    }
    int threads_n = atoi(argv[2]);
    data_len = (size_t)atol(argv[3]);
    if (threads_n < 1 || threads_n > MAX_THREADS || (data = malloc(data_len + 1)) == NULL)
        return 2;
    signal(SIGPIPE, SIG_DFL); /* a C host's default: SIGPIPE kills */
    memset(data, 'x', data_len);

    macp_client_options *opts = NULL;
    macp_error *err = NULL;
    if (macp_client_options_new(&opts, &err) != MACP_STATUS_OK ||
        macp_client_options_set_target(opts, argv[1], &err) != MACP_STATUS_OK ||
        macp_client_options_set_allow_insecure(opts, true, &err) != MACP_STATUS_OK ||
        macp_client_options_set_bearer_token(opts, "sigpipe-host", &err) != MACP_STATUS_OK ||
        macp_client_options_set_call_timeout_ms(opts, 5000, &err) != MACP_STATUS_OK ||
        macp_client_new(opts, &client, NULL, &err) != MACP_STATUS_OK) {
        fprintf(stderr, "setup: %s\n", err ? macp_error_message(err) : "?");
        return 1;
    }
    macp_client_options_free(opts);
    macp_watcher *watcher = NULL;
    if (argc == 5 &&
        macp_client_watch(client, MACP_WATCH_SIGNALS, NULL, on_event, NULL, &watcher, NULL, &err) !=
            MACP_STATUS_OK) {
        fprintf(stderr, "watch: %s\n", macp_error_message(err));
        return 1;
    }

    pthread_t threads[MAX_THREADS];
    for (int i = 0; i < threads_n; i++) {
        if (pthread_create(&threads[i], NULL, sender, NULL) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    printf("ready\n");
    fflush(stdout);

    char line[64];
    while (fgets(line, sizeof line, stdin) != NULL) {
        long want = strtol(line, NULL, 10);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 60;
        pthread_mutex_lock(&lock);
        while (accepted < want && pthread_cond_timedwait(&more, &lock, &until) == 0) {
        }
        long now = accepted;
        pthread_mutex_unlock(&lock);
        printf("%ld\n", now);
        fflush(stdout);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < threads_n; i++)
        pthread_join(threads[i], NULL);
    macp_watcher_close(watcher);
    macp_client_free(client);
    printf("socket writes %ld\n", atomic_load(&socket_writes));
    return 0;
}
