//! The handler's server run in this test process with business logic of the test's choosing,
//! for faults that the shipped business logic never makes. It is the same server code the binary
//! runs, reached over real loopback HTTP.

use std::{sync::Arc, sync::mpsc, thread, time::Duration};

use amh::{
    business_logic::BusinessLogic, config::Settings, dispatch::Dispatcher, logging::HandlerLogger,
    server,
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
        let _ = HandlerLogger::from_env().install();
        amh::panic_guard::install_hook();
        let mut settings = Settings::from_lookup(|_| None).expect("default settings");
        settings.logic_timeout = deadline;
        settings.shutdown_grace = Duration::from_secs(1);
        let listener = server::bind_loopback(0).expect("bind");
        let port = listener.local_addr().expect("address").port();
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let dispatcher = Arc::new(Dispatcher::new(logic, settings.dispatch()));
                let server = server::start(listener, dispatcher, &settings).expect("start");
                sender.send(server.handle()).expect("hand over");
                server.await
            })
        });
        let handle = receiver.recv().expect("server started");
        Self { port, handle }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}
