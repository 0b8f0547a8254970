// A fixed team of worker threads for infbench's own parallel loops (GEMM panels, attention heads,
// conv bands). Between jobs the workers spin for a while before sleeping: a forward pass hands
// them work dozens of times a millisecond, and on these VMs waking a sleeping vCPU costs tens of
// microseconds, as long as a batch-1 GEMM takes.
#pragma once
#include <stddef.h>

typedef struct ib_pool ib_pool;

/// One job's body: called once for each index 0..<n.
typedef void (*ib_pool_fn)(void *context, int index);

/// A team of `threads` (≥ 1): the caller plus threads − 1 workers. Workers spin for up to
/// `spin_us` microseconds after a job before sleeping. NULL if a thread could not be started.
ib_pool *ib_pool_create(int threads, int spin_us);

/// Stops and joins the workers.
void ib_pool_destroy(ib_pool *pool);

/// Runs fn(context, i) once for each i in 0..<n and returns when all have returned. The caller and
/// the workers claim indices as they come free (a worker the OS has not scheduled yet leaves its
/// share to the others), so index i says nothing about the thread; each runs on one thread at a
/// time. One caller at a time; fn must not call ib_pool_run on the same pool.
void ib_pool_run(ib_pool *pool, int n, ib_pool_fn fn, void *context);

/// Jobs that found at least one worker asleep (it had to be woken), since creation.
unsigned long ib_pool_wakeups(const ib_pool *pool);

/// Jobs handed to the workers (n ≥ 2 on a team of ≥ 2 threads), since creation.
unsigned long ib_pool_jobs(const ib_pool *pool);
