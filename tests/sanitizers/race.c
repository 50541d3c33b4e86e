/* A deliberate data race: two threads increment one int without a lock.
 * scripts/sanitize.sh thread runs it first, built and run exactly as the
 * C tests are, and requires ThreadSanitizer to report it and fail the run:
 * a passing run of the tests then means their reports would have failed it. */
#include <pthread.h>
#include <stdio.h>

static int counter;

static void *bump(void *arg) {
    (void)arg;
    counter++;
    return NULL;
}

int main(void) {
    pthread_t a, b;
    if (pthread_create(&a, NULL, bump, NULL) != 0 || pthread_create(&b, NULL, bump, NULL) != 0) {
        fprintf(stderr, "race: pthread_create failed\n");
        return 2;
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("race: counter = %d\n", counter);
    return 0;
}
