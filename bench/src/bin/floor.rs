//! The floor server: the fastest answer a custom handler on actix-web can give.
//!
//! It speaks just enough of the host protocol to be benchmarked exactly like the handler: it
//! listens on `127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT`, answers `GET /` and `POST /{name}` with
//! `200 {}` and `Content-Type: application/json`, and reads each request body whole without
//! decoding it. `POST /EventGridTrigger` has a fixed route of its own, as in the handler, so that
//! neither pays for matching a path pattern on the measured requests. The server keeps
//! actix-web's default settings (one worker per core), so the gap between the handler and the
//! floor is the handler's own work.

use std::{env, io, process::ExitCode};

use actix_web::{App, HttpResponse, HttpServer, http::header::ContentType, rt::System, web};

fn main() -> ExitCode {
    // Read the port the way a custom handler does.
    let port = match env::var("FUNCTIONS_CUSTOMHANDLER_PORT").map(|p| p.parse::<u16>()) {
        Ok(Ok(port)) => port,
        _ => {
            eprintln!("floor: FUNCTIONS_CUSTOMHANDLER_PORT must hold a port number");
            return ExitCode::FAILURE;
        }
    };

    // Serve until killed.
    match System::new().block_on(serve(port)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("floor: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the server on `127.0.0.1:port` with actix-web's default worker count.
async fn serve(port: u16) -> io::Result<()> {
    HttpServer::new(|| {
        App::new()
            .route("/", web::get().to(ready))
            .route("/EventGridTrigger", web::post().to(invoke))
            .route("/{name}", web::post().to(invoke))
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}

/// Answers the host's readiness and health ping.
async fn ready() -> HttpResponse {
    empty_object()
}

/// Answers an invocation once its whole body has been read, without looking at it.
async fn invoke(_body: web::Bytes) -> HttpResponse {
    empty_object()
}

/// The smallest answer the host accepts as a success.
fn empty_object() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body("{}")
}
