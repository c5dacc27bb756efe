//! The `handler` binary: serves the Functions host's invocations when the host started it, serves
//! Event Grid as a standalone webhook otherwise, and replays or posts event files on request.
//! See [`amh::cli`] for the command line and its exit statuses.

use std::{net::TcpListener, path::PathBuf, process::ExitCode, sync::Arc};

use amh::{
    app::App,
    cli::{self, Command, EXIT_FAILED, EXIT_OK, EXIT_USAGE},
    config::Settings,
    dispatch::Dispatcher,
    event_files,
    logging::HandlerLogger,
    post, replay, server, webhook,
};

fn main() -> ExitCode {
    // Read the command line; help and version need nothing else.
    let command = match cli::parse(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match command {
        Command::Help => {
            print!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("handler {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        _ => {}
    }

    // Set up logging: the host's way when serving, all to stderr when stdout is the output.
    let logger = match command {
        Command::Serve { .. } => HandlerLogger::from_env(),
        _ => HandlerLogger::from_env().to_stderr(),
    };
    if logger.install().is_err() {
        eprintln!("error: a logger was already installed");
        return ExitCode::FAILURE;
    }
    amh::panic_guard::install_hook();

    // Read and check the settings.
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            log::error!("invalid setting {err}");
            return ExitCode::from(EXIT_USAGE);
        }
    };

    // Run the command.
    let status = match command {
        Command::Serve { listen } => match settings.host_port {
            Some(port) if listen.is_none() => serve_host(port, &settings),
            Some(_) => {
                log::error!(
                    "--listen is for the standalone webhook, but FUNCTIONS_CUSTOMHANDLER_PORT is \
                     set: the Functions host chooses the port"
                );
                EXIT_USAGE
            }
            None => serve_webhook(listen.unwrap_or(cli::DEFAULT_LISTEN), &settings),
        },
        Command::Invoke { files } => invoke(&files, &settings),
        Command::Post { url, files } => post(url.as_deref(), &files, &settings),
        Command::Help | Command::Version => EXIT_OK,
    };
    ExitCode::from(status)
}

/// Builds the business logic from its settings: the one place it is made.
///
/// # Errors
///
/// Logs the bad setting and returns the exit code for it.
fn build_app() -> Result<App, u8> {
    match App::from_env() {
        Ok(app) => {
            app.log_start();
            Ok(app)
        }
        Err(err) => {
            log::error!("invalid setting {err}");
            Err(EXIT_USAGE)
        }
    }
}

/// The dispatcher every mode uses, or the exit code of a bad setting.
fn dispatcher(settings: &Settings) -> Result<Arc<Dispatcher<App>>, u8> {
    Ok(Arc::new(Dispatcher::new(build_app()?, settings.dispatch())))
}

/// Serves the Functions host's invocations on `127.0.0.1:<port>`.
fn serve_host(port: u16, settings: &Settings) -> u8 {
    // Bind before starting, so that a busy port is a clear error.
    let listener = match server::bind_loopback(port) {
        Ok(listener) => listener,
        Err(err) => {
            log::error!("cannot listen on 127.0.0.1:{port}: {err}");
            return EXIT_FAILED;
        }
    };

    // Serve until a stop signal.
    let dispatcher = match dispatcher(settings) {
        Ok(dispatcher) => dispatcher,
        Err(code) => return code,
    };
    run_server(|| {
        let server = server::start(listener, dispatcher, settings)?;
        log::info!("listening on 127.0.0.1:{port} for the Functions host");
        Ok(server)
    })
}

/// Serves Event Grid itself on `address`, as a standalone webhook.
fn serve_webhook(address: std::net::SocketAddr, settings: &Settings) -> u8 {
    // Refuse to be reachable beyond this machine without a key.
    if let Err(reason) = webhook::check_exposure(address, settings.webhook_key.as_ref()) {
        log::error!("{reason}");
        return EXIT_USAGE;
    }

    // Bind before starting, so that a busy address is a clear error.
    let listener = match TcpListener::bind(address) {
        Ok(listener) => listener,
        Err(err) => {
            log::error!("cannot listen on {address}: {err}");
            return EXIT_FAILED;
        }
    };
    let bound = listener.local_addr().unwrap_or(address);

    // Serve until a stop signal.
    let dispatcher = match dispatcher(settings) {
        Ok(dispatcher) => dispatcher,
        Err(code) => return code,
    };
    run_server(|| {
        let server = webhook::start(listener, dispatcher, settings)?;
        log::info!(
            "standalone webhook listening on http://{bound}{}?functionName={}; key {}; poison \
             events kept in {}",
            webhook::WEBHOOK_PATH,
            server::FUNCTION_NAME,
            if settings.webhook_key.is_some() {
                "required"
            } else {
                "not required"
            },
            settings.poison_dir.display()
        );
        Ok(server)
    })
}

/// Runs the server that `start` makes until it stops.
fn run_server(start: impl FnOnce() -> std::io::Result<actix_web::dev::Server>) -> u8 {
    let result = actix_web::rt::System::new().block_on(async { start()?.await });
    match result {
        Ok(()) => {
            log::info!("stopped");
            EXIT_OK
        }
        Err(err) => {
            log::error!("server failed: {err}");
            EXIT_FAILED
        }
    }
}

/// `handler invoke`: replays the files' events and prints a line per event.
fn invoke(paths: &[PathBuf], settings: &Settings) -> u8 {
    // Read every file first, so that a bad one stops the replay before it starts.
    let files = match event_files::read_all(paths) {
        Ok(files) => files,
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_USAGE;
        }
    };

    // Replay the events, one JSON line each on stdout.
    let dispatcher = match dispatcher(settings) {
        Ok(dispatcher) => dispatcher,
        Err(code) => return code,
    };
    let mut out = std::io::stdout().lock();
    let result = actix_web::rt::System::new()
        .block_on(async { replay::replay(&dispatcher, &files, &mut out).await });

    // Summarize on stderr.
    match result {
        Ok(tally) => {
            eprintln!("{tally}");
            if tally.all_through() {
                EXIT_OK
            } else {
                EXIT_FAILED
            }
        }
        Err(err) => {
            eprintln!("error: cannot write to standard output: {err}");
            EXIT_FAILED
        }
    }
}

/// `handler post`: posts the files' events to a webhook and prints each answer.
fn post(url: Option<&str>, paths: &[PathBuf], settings: &Settings) -> u8 {
    // Check the URL and read every file first.
    let url = match post::parse_url(url.unwrap_or(post::DEFAULT_URL)) {
        Ok(url) => url,
        Err(reason) => {
            eprintln!("error: {reason}");
            return EXIT_USAGE;
        }
    };
    let files = match event_files::read_all(paths) {
        Ok(files) => files,
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_USAGE;
        }
    };

    // Post them one after another, a line per answer on stdout.
    let key = settings.webhook_key.as_ref();
    let mut out = std::io::stdout().lock();
    let result = actix_web::rt::System::new()
        .block_on(async { post::post_all(&url, &files, key, &mut out).await });

    // Summarize on stderr.
    match result {
        Ok(tally) => {
            eprintln!(
                "posted {} file{}: {} answered 2xx, {} not",
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                tally.accepted,
                tally.refused
            );
            if tally.refused == 0 {
                EXIT_OK
            } else {
                EXIT_FAILED
            }
        }
        Err(err) => {
            eprintln!("error: {err}");
            EXIT_FAILED
        }
    }
}
