//! Calling the synchronous driver from any thread, also one that drives a tokio runtime.
//!
//! The `postgres` client runs every call (connect, each statement, each row read, the close
//! when it is dropped) by blocking on a small tokio runtime of its own. tokio refuses to block
//! on a runtime from a thread that is already driving one (an async task, a
//! `#[tokio::main]` body): it panics with "Cannot start a runtime from within a runtime".
//! So each call into the driver goes through this module, which looks at the thread it is on:
//!
//! - No tokio runtime on this thread (a plain thread): the call runs here, as it is. The cost
//!   of the check is one thread-local read.
//! - A multi-thread runtime's handle: the call runs in `tokio::task::block_in_place`, which on
//!   a worker thread first hands the worker's other tasks to another thread and then lets the
//!   call block, and anywhere else (a `spawn_blocking` task) just runs it.
//! - A current-thread runtime's handle, or a thread whose thread-locals are being destroyed:
//!   tokio gives no way to tell the runtime's own thread from one of its `spawn_blocking`
//!   tasks, so the call runs on a short-lived helper thread while this one waits (a query's
//!   rows come over a bounded channel, one at a time, so a read still holds a few rows, never
//!   the whole result).
//!
//! Dropping a client is a call too ([`close`]): inside a runtime it is handed to a plain thread
//! that closes it, and the drop waits for that, so the connection is closed on the server when
//! the drop returns. Nothing here panics: a helper thread that cannot be started is an
//! [`Error::Connection`], and a client that cannot be handed to one is leaked (its socket stays
//! open until the process ends) rather than closed where closing would panic.

use orm_core::{Error, Result};
use tokio::runtime::{Handle, RuntimeFlavor};

/// Where a call into the driver may block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Where {
    /// On this thread, as it is: no runtime is in the way.
    Here,
    /// On this thread, inside `tokio::task::block_in_place` (a multi-thread runtime).
    BlockInPlace,
    /// On a helper thread, this one waiting for it.
    HelperThread,
}

impl Where {
    /// Where a call made on this thread now may block.
    pub(crate) fn current() -> Where {
        match Handle::try_current() {
            Ok(handle) => match handle.runtime_flavor() {
                RuntimeFlavor::MultiThread => Where::BlockInPlace,
                _ => Where::HelperThread,
            },
            // Closing a client while this thread's thread-locals are destroyed would make
            // tokio panic as well (its context is one of them).
            Err(e) if e.is_thread_local_destroyed() => Where::HelperThread,
            Err(_) => Where::Here,
        }
    }
}

/// Runs `f`, a call into the driver, where it may block (see the module's documentation).
/// The only error is a helper thread that could not be started or that panicked.
pub(crate) fn call<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T> {
    match Where::current() {
        Where::Here => Ok(f()),
        Where::BlockInPlace => Ok(tokio::task::block_in_place(f)),
        Where::HelperThread => on_helper_thread(f),
    }
}

/// Runs `f` on a helper thread and waits for it.
pub(crate) fn on_helper_thread<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T> {
    std::thread::scope(|scope| {
        let helper = helper().spawn_scoped(scope, f).map_err(cannot_start)?;
        helper.join().map_err(|_| Error::connection("the PostgreSQL driver panicked"))
    })
}

/// A helper thread's builder.
pub(crate) fn helper() -> std::thread::Builder {
    std::thread::Builder::new().name("orm-postgres".into())
}

/// The error for a helper thread the system would not start.
pub(crate) fn cannot_start(e: std::io::Error) -> Error {
    Error::connection_caused_by(
        format!(
            "cannot start a thread to call the PostgreSQL driver outside the async runtime: {e}"
        ),
        e,
    )
}

/// Closes `client` (drops it) where closing cannot panic, and returns once it is closed.
pub(crate) fn close(client: postgres::Client) {
    if Where::current() == Where::Here {
        drop(client);
        return;
    }
    // The helper takes the client out of the slot, so that when it cannot be started the
    // client is still here (a closure that owned it would be dropped, and close it, here).
    let mut slot = Some(client);
    let started = std::thread::scope(|scope| {
        let taken = &mut slot;
        match helper().spawn_scoped(scope, move || drop(taken.take())) {
            // A panic in the driver's close is the driver's; the client is gone either way.
            Ok(helper) => {
                let _ = helper.join();
                true
            }
            Err(_) => false,
        }
    });
    if !started {
        // Leaked, not closed: closing it on this thread would panic.
        std::mem::forget(slot);
    }
}
