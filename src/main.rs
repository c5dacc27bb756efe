//! The `handler` binary: started by the Functions host, it serves the host's invocations.

use std::{process::ExitCode, sync::Arc};

use amh::{app::App, config::Settings, dispatch::Dispatcher, logging::HandlerLogger, server};

fn main() -> ExitCode {
    // Set up logging first, so that everything after it is reported the host's way.
    if HandlerLogger::from_env().install().is_err() {
        eprintln!("error: a logger was already installed");
        return ExitCode::FAILURE;
    }
    amh::panic_guard::install_hook();

    // Read and check the settings.
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            log::error!("invalid setting {err}");
            return ExitCode::from(2);
        }
    };
    let Some(port) = settings.host_port else {
        log::error!(
            "FUNCTIONS_CUSTOMHANDLER_PORT is not set: the Functions host sets it when it starts \
             the handler"
        );
        return ExitCode::from(2);
    };

    // Build the application from its own settings.
    let app = match App::from_env() {
        Ok(app) => app,
        Err(err) => {
            log::error!("invalid setting {err}");
            return ExitCode::from(2);
        }
    };
    app.log_start();

    // Bind before starting, so that a busy port is a clear error.
    let listener = match server::bind_loopback(port) {
        Ok(listener) => listener,
        Err(err) => {
            log::error!("cannot listen on 127.0.0.1:{port}: {err}");
            return ExitCode::FAILURE;
        }
    };

    // Serve until a stop signal.
    let dispatcher = Arc::new(Dispatcher::new(app, settings.dispatch()));
    let result = actix_web::rt::System::new().block_on(async {
        let server = server::start(listener, dispatcher, &settings)?;
        log::info!("listening on 127.0.0.1:{port} for the Functions host");
        server.await
    });
    match result {
        Ok(()) => {
            log::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            log::error!("server failed: {err}");
            ExitCode::FAILURE
        }
    }
}
