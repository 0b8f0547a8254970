// Worker team for ib_pool_run (see ib_pool.h). A job is published by one 64-bit word holding its
// generation (high half) and the next unclaimed index (low half). Everyone — the caller and every
// worker that is awake — claims indices from it until none are left, so a worker the OS has not
// scheduled yet never holds up the job: the caller runs its share. Workers spin on the word, then
// sleep on a condition variable once `spin_us` passes without a job.
#include "ib_pool.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/// Pauses between checks before a waiter starts yielding its core: on a machine with more runnable
/// threads than cores, the thread it waits for may need that core to finish.
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

struct ib_pool {
    int threads;
    long long spin_ns;
    pthread_t *workers;               // threads - 1 of them
    // The current job. fn, context and n are written before `job` publishes a new generation
    // (release) and stay until every index has run; a claim on `job` therefore sees them.
    ib_pool_fn fn;
    void *context;
    _Atomic int n;
    _Atomic uint64_t job;             // generation << 32 | next unclaimed index
    _Atomic int done;                 // indices of the current job that have returned
    _Atomic int sleeping;             // workers waiting on `wake`
    _Atomic bool stop;
    _Atomic unsigned long wakeups;
    _Atomic unsigned long jobs;
    pthread_mutex_t lock;
    pthread_cond_t wake;
};

static inline uint32_t generation_of(uint64_t job) { return (uint32_t)(job >> 32); }

/// Claims and runs indices of job `gen` until none are left (or a newer job replaced it).
static void work_on(ib_pool *p, uint32_t gen) {
    for (;;) {
        uint64_t job = atomic_load_explicit(&p->job, memory_order_acquire);
        if (generation_of(job) != gen) return;
        uint32_t i = (uint32_t)job;
        if ((int)i >= atomic_load_explicit(&p->n, memory_order_relaxed)) return;
        // Succeeds only while the word is still (gen, i): the job is unfinished, so fn and context are its own.
        if (!atomic_compare_exchange_weak_explicit(&p->job, &job, job + 1, memory_order_acq_rel, memory_order_acquire))
            continue;
        p->fn(p->context, (int)i);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
}

static void *worker_main(void *arg) {
    ib_pool *p = arg;
    uint32_t seen = generation_of(atomic_load(&p->job));
    for (;;) {
        uint32_t gen = generation_of(atomic_load_explicit(&p->job, memory_order_acquire));
        long long deadline = now_ns() + p->spin_ns;
        for (long spins = 0; gen == seen && !atomic_load_explicit(&p->stop, memory_order_relaxed); spins++) {
            wait_step(spins);
            gen = generation_of(atomic_load_explicit(&p->job, memory_order_acquire));
            if (gen != seen || (spins & 255) != 255 || now_ns() < deadline) continue;
            // Nothing for a while: sleep until the next job. `sleeping` is raised before `job` is
            // read again under the lock, and the caller reads `sleeping` after publishing a job
            // (both sequentially consistent), so one of the two always sees the other.
            pthread_mutex_lock(&p->lock);
            atomic_fetch_add(&p->sleeping, 1);
            while ((gen = generation_of(atomic_load(&p->job))) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->wake, &p->lock);
            atomic_fetch_sub(&p->sleeping, 1);
            pthread_mutex_unlock(&p->lock);
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = gen;
        work_on(p, gen);
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
    p->workers = calloc((size_t)(threads > 1 ? threads - 1 : 1), sizeof(pthread_t));
    if (!p->workers) { free(p); return NULL; }
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&p->workers[i - 1], NULL, worker_main, p) != 0) {
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
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 1; i < p->threads; i++) pthread_join(p->workers[i - 1], NULL);
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
    p->fn = fn;
    p->context = context;
    atomic_store_explicit(&p->n, n, memory_order_relaxed);
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->jobs, 1, memory_order_relaxed);
    uint32_t gen = generation_of(atomic_load(&p->job)) + 1;
    atomic_store(&p->job, (uint64_t)gen << 32); // publishes fn, context, n
    if (atomic_load(&p->sleeping) > 0) {
        atomic_fetch_add_explicit(&p->wakeups, 1, memory_order_relaxed);
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
    work_on(p, gen);
    // Every index is claimed; wait for the ones workers are still running.
    for (long spins = 0; atomic_load_explicit(&p->done, memory_order_acquire) < n; spins++) wait_step(spins);
}

unsigned long ib_pool_wakeups(const ib_pool *p) {
    return atomic_load_explicit(&((ib_pool *)p)->wakeups, memory_order_relaxed);
}

unsigned long ib_pool_jobs(const ib_pool *p) {
    return atomic_load_explicit(&((ib_pool *)p)->jobs, memory_order_relaxed);
}
