//! The pools for work that must not hold up requests: re-scoring a shopper's lists
//! after their event, and retraining the models, each at a lower CPU priority than the
//! threads that answer requests (and training lower still).
//!
//! An event's own request pays for re-scoring the lists on the shopper's screen (about a
//! millisecond of blending over the catalogue), so that their next list comes from
//! memory. On a busy machine that work competes with every request served from memory
//! (tens of microseconds each). Its threads run at a nicer priority (`NICENESS`), so
//! the scheduler gives the cores to requests first and to re-scoring with what is left:
//! a burst of events slows the events' own answers, not everyone's recommendations.
//! Training in the background runs nicer still (`TRAINING_NICENESS`), so a retrain takes
//! what requests and events leave; on an idle machine (the first start) nice costs nothing.

use std::sync::OnceLock;

use crate::error::Error;

/// The re-scoring threads' nice value (0 is normal; 19 is the lowest priority).
const NICENESS: i32 = 10;
/// The training threads' nice value.
const TRAINING_NICENESS: i32 = 15;

/// A pool of one thread per core at `niceness`. Rayon work started inside it (a model's
/// parallel fit) stays inside it, at the same priority.
/// As many threads as rayon's global pool would have (`RAYON_NUM_THREADS`, else one per
/// core): a model whose fit depends on the thread count trains as it would there.
fn pool_at(name: &'static str, niceness: i32) -> rayon::ThreadPool {
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |n| format!("curio-{name}-{n}"))
        .start_handler(move |_| lower_priority(niceness))
        .build()
        .unwrap_or_else(|error| {
            tracing::warn!(%error, name, "no pool of its own; using a one-thread pool");
            rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .start_handler(move |_| lower_priority(niceness))
                .build()
                .expect("a one-thread pool")
        })
}

fn rescoring() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| pool_at("rescore", NICENESS))
}

fn training() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| pool_at("train", TRAINING_NICENESS))
}

/// Lowers the calling thread's priority (on Linux `setpriority` with `PRIO_PROCESS` and
/// 0 acts on the calling thread alone). Best effort: a failure is logged and the thread
/// runs at normal priority.
fn lower_priority(niceness: i32) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority takes plain integers and touches no memory of ours.
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, niceness) };
        if result != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "re-scoring thread keeps its normal priority"
            );
        }
    }
}

/// Runs `work` on the re-scoring pool and waits for it without holding up the async
/// worker. `work` must not use rayon itself: a pool thread waiting inside a parallel
/// iterator may pick up another queued job, which could want a lock `work` holds.
pub async fn run<R: Send + 'static>(work: impl FnOnce() -> R + Send + 'static) -> Result<R, Error> {
    on(rescoring(), "re-scoring", work).await
}

/// Runs `work` (a training run) on the training pool and waits for it.
pub async fn train<R: Send + 'static>(
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Error> {
    on(training(), "training", work).await
}

async fn on<R: Send + 'static>(
    pool: &'static rayon::ThreadPool,
    what: &'static str,
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Error> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    pool.spawn(move || {
        // A panic fails this task alone (rayon would abort the process). The receiver
        // may be gone (the request was cancelled): the lists are still scored, and
        // nothing waits for the answer.
        if let Ok(answer) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
            let _ = sender.send(answer);
        }
    });
    receiver
        .await
        .map_err(|_| Error::Command(format!("the {what} task failed")))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn runs_work_at_a_lower_priority_and_answers() {
        let (answer, nice) = super::run(|| {
            #[cfg(target_os = "linux")]
            // SAFETY: getpriority takes plain integers and touches no memory of ours.
            let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
            #[cfg(not(target_os = "linux"))]
            let nice = super::NICENESS;
            (6 * 7, nice)
        })
        .await
        .expect("the pool answers");
        assert_eq!(answer, 42);
        assert!(nice >= super::NICENESS, "nice {nice}");
        let nice = super::train(|| {
            #[cfg(target_os = "linux")]
            // SAFETY: getpriority takes plain integers and touches no memory of ours.
            let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
            #[cfg(not(target_os = "linux"))]
            let nice = super::TRAINING_NICENESS;
            nice
        })
        .await
        .expect("the pool answers");
        assert!(nice >= super::TRAINING_NICENESS, "nice {nice}");
    }

    #[tokio::test]
    async fn a_panic_fails_its_task_alone() {
        let failed = super::run(|| -> u8 { panic!("planted") }).await;
        assert!(failed.is_err());
        assert_eq!(super::run(|| 1u8).await.expect("still serving"), 1);
    }
}
