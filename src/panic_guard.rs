//! Containing panics in business logic to the invocation that caused them.

use std::{
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::Pin,
    task::{Context, Poll},
};

/// A future that turns a panic while polling `F` into `Err(Panicked)`.
pub struct CatchPanic<F>(Pin<Box<F>>);

/// The wrapped future panicked; the panic hook has already logged where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panicked;

impl<F: Future> CatchPanic<F> {
    /// Wraps `future`.
    pub fn new(future: F) -> Self {
        Self(Box::pin(future))
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, Panicked>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The future is dropped unpolled after a panic, so no broken state is observed again.
        let inner = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(move || inner.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(Panicked)),
        }
    }
}

/// Replaces the default panic message with a log record that says where the panic happened.
///
/// The panic's message goes only to debug level, since it may quote the event's personal data.
pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map_or_else(|| "an unknown place".to_owned(), ToString::to_string);
        log::error!("panicked at {location}");
        if let Some(message) = panic_message(info.payload()) {
            log::debug!("panic message: {message}");
        }
    }));
}

/// The text of a panic payload, when it is text.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}
