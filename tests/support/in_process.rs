//! The handler's server, or its standalone webhook, run in this test process with business logic
//! of the test's choosing, for faults that the shipped business logic never makes. It is the same
//! server code the binary runs, reached over real loopback HTTP.

use std::{path::Path, sync::Arc, sync::mpsc, thread, time::Duration};

use amh::{
    business_logic::BusinessLogic, config::Settings, dispatch::Dispatcher, logging::HandlerLogger,
    server, webhook,
};

/// A server running on its own thread.
pub struct InProcess {
    /// The port it listens on.
    pub port: u16,
    /// Stops the server.
    handle: actix_web::dev::ServerHandle,
}

impl InProcess {
    /// Starts `logic` behind the server with a business logic deadline of `deadline`.
    pub fn start<L: BusinessLogic>(logic: L, deadline: Duration) -> Self {
        let settings = settings(deadline);
        Self::run(logic, settings, server::start::<L>)
    }

    /// Starts `logic` behind the standalone webhook with a business logic deadline of `deadline`,
    /// keeping poison events in `poison_dir`.
    pub fn start_webhook<L: BusinessLogic>(
        logic: L,
        deadline: Duration,
        poison_dir: &Path,
    ) -> Self {
        let mut settings = settings(deadline);
        settings.poison_dir = poison_dir.to_owned();
        Self::run(logic, settings, webhook::start::<L>)
    }

    /// Runs the server that `start` makes on a thread of its own.
    fn run<L: BusinessLogic>(
        logic: L,
        settings: Settings,
        start: fn(
            std::net::TcpListener,
            Arc<Dispatcher<L>>,
            &Settings,
        ) -> std::io::Result<actix_web::dev::Server>,
    ) -> Self {
        let _ = HandlerLogger::from_env().install();
        amh::panic_guard::install_hook();
        let listener = server::bind_loopback(0).expect("bind");
        let port = listener.local_addr().expect("address").port();
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let dispatcher = Arc::new(Dispatcher::new(logic, settings.dispatch()));
                let server = start(listener, dispatcher, &settings).expect("start");
                sender.send(server.handle()).expect("hand over");
                server.await
            })
        });
        let handle = receiver.recv().expect("server started");
        Self { port, handle }
    }
}

/// Default settings with a business logic deadline of `deadline` and a short grace period.
fn settings(deadline: Duration) -> Settings {
    let mut settings = Settings::from_lookup(|_| None).expect("default settings");
    settings.logic_timeout = deadline;
    settings.shutdown_grace = Duration::from_secs(1);
    settings
}

impl Drop for InProcess {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}
