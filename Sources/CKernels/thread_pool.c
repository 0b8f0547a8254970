// Worker team for ib_pool_run (see ib_pool.h). A job is published by bumping `generation`;
// workers spin on it, then sleep on a condition variable once `spin_us` passes without a job.
// The caller runs index 0 itself and spins until `pending` reaches zero.
#include "ib_pool.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/// Spin iterations between pauses before a waiter starts yielding its core: on a machine with more
/// runnable threads than cores, the thread it waits for may need that core to finish.
#define IB_POOL_PAUSES 2048

static inline void wait_step(long spins) {
    if (spins < IB_POOL_PAUSES) cpu_relax();
    else sched_yield();
}

static inline long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

typedef struct {
    ib_pool *pool;
    int index;
    pthread_t thread;
} worker;

struct ib_pool {
    int threads;
    long long spin_ns;
    worker *workers;                 // threads - 1 of them
    // The current job; written before `generation` is bumped (release), read after (acquire).
    ib_pool_fn fn;
    void *context;
    int n;
    _Atomic unsigned generation;
    _Atomic int pending;             // workers still to finish the current job
    _Atomic int sleeping;            // workers waiting on `wake`
    _Atomic bool stop;
    _Atomic unsigned long wakeups;
    pthread_mutex_t lock;
    pthread_cond_t wake;
};

static void *worker_main(void *arg) {
    worker *w = arg;
    ib_pool *p = w->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned gen = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (gen == seen) {
            long long deadline = now_ns() + p->spin_ns;
            for (long spins = 0; gen == seen; spins++) {
                wait_step(spins);
                gen = atomic_load_explicit(&p->generation, memory_order_acquire);
                if (gen != seen || (spins & 255) != 255 || now_ns() < deadline) continue;
                // Nothing for a while: sleep until the next job. `sleeping` is raised before
                // `generation` is read again under the lock, and the caller reads `sleeping`
                // after bumping `generation` (both sequentially consistent), so one of the two
                // always sees the other: no job is missed.
                pthread_mutex_lock(&p->lock);
                atomic_fetch_add(&p->sleeping, 1);
                while ((gen = atomic_load(&p->generation)) == seen && !atomic_load(&p->stop))
                    pthread_cond_wait(&p->wake, &p->lock);
                atomic_fetch_sub(&p->sleeping, 1);
                pthread_mutex_unlock(&p->lock);
                if (gen == seen) break; // stopped
            }
        }
        seen = gen;
        if (atomic_load(&p->stop)) return NULL;
        if (w->index < p->n) p->fn(p->context, w->index);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
}

ib_pool *ib_pool_create(int threads, int spin_us) {
    if (threads < 1) return NULL;
    ib_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads;
    p->spin_ns = (long long)spin_us * 1000;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->workers = calloc((size_t)(threads > 1 ? threads - 1 : 1), sizeof(worker));
    if (!p->workers) { free(p); return NULL; }
    for (int i = 1; i < threads; i++) {
        worker *w = &p->workers[i - 1];
        w->pool = p;
        w->index = i;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            p->threads = i; // join the ones that started
            ib_pool_destroy(p);
            return NULL;
        }
    }
    return p;
}

void ib_pool_destroy(ib_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->stop, true);
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 1; i < p->threads; i++) pthread_join(p->workers[i - 1].thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p->workers);
    free(p);
}

void ib_pool_run(ib_pool *p, int n, ib_pool_fn fn, void *context) {
    if (n <= 0) return;
    if (n == 1 || p->threads == 1) {
        for (int i = 0; i < n; i++) fn(context, i);
        return;
    }
    if (n > p->threads) n = p->threads;
    p->fn = fn;
    p->context = context;
    p->n = n;
    // Every worker takes part in a job (those past n just acknowledge it), so `pending` counts them all.
    atomic_store_explicit(&p->pending, p->threads - 1, memory_order_relaxed);
    atomic_fetch_add(&p->generation, 1);
    if (atomic_load(&p->sleeping) > 0) {
        atomic_fetch_add_explicit(&p->wakeups, 1, memory_order_relaxed);
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
    fn(context, 0);
    for (long spins = 0; atomic_load_explicit(&p->pending, memory_order_acquire) > 0; spins++) wait_step(spins);
}

unsigned long ib_pool_wakeups(const ib_pool *p) {
    return atomic_load_explicit(&((ib_pool *)p)->wakeups, memory_order_relaxed);
}
