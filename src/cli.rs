//! The command line: `serve` (the default), `migrate`, `healthcheck`. Every failure is one line
//! on stderr and a non-zero exit, never a panic trace.

use crate::config::Settings;
use crate::startup::Application;
use crate::store::Store;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Parser)]
#[command(
    name = "vpp-emulator",
    version,
    about = "A persistent emulator of the Microsoft Graph Intune vppTokens API"
)]
pub struct Cli {
    /// Settings file layered over the defaults (else VPP_CONFIG; VPP_<SECTION>__<KEY> variables win).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the emulator (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Exit 0 when the configured server answers GET /health with 200, else 1 (for container
    /// HEALTHCHECKs without curl).
    Healthcheck {
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 3)]
        timeout: u64,
    },
}

/// Runs the command line; the binary's `main` is only this.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(e) => return fail(&e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(settings).await,
            Command::Migrate => match Store::migrate_only(&settings.database).await {
                Ok(()) => {
                    println!("migrations applied to {}", settings.database.path.display());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            },
            Command::Healthcheck { timeout } => {
                healthcheck(&settings, Duration::from_secs(timeout)).await
            }
        }
    })
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("vpp-emulator: {error}");
    ExitCode::FAILURE
}

async fn serve(settings: Settings) -> ExitCode {
    crate::telemetry::init(&settings.log);
    let host = settings.server.host.clone();
    let database = settings.database.path.clone();
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => return fail(&e),
    };
    tracing::info!(database = %database.display(), "vpp-emulator listening on http://{host}:{}", app.port());
    match app.run_until_stopped().await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("server error: {e}")),
    }
}

/// A minimal HTTP/1.1 GET of `/health` on the configured port: no HTTP client needed.
async fn healthcheck(settings: &Settings, timeout: Duration) -> ExitCode {
    let host = match settings.server.host.as_str() {
        "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        other => other,
    };
    let address = format!("{host}:{}", settings.server.port);
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(&address).await?;
        let request =
            format!("GET /health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = vec![0u8; 64];
        let read = stream.read(&mut head).await?;
        Ok::<bool, std::io::Error>(head[..read].starts_with(b"HTTP/1.1 200"))
    };
    match tokio::time::timeout(timeout, probe).await {
        Ok(Ok(true)) => ExitCode::SUCCESS,
        Ok(Ok(false)) => fail(&format!("http://{address}/health did not answer 200")),
        Ok(Err(e)) => fail(&format!("cannot reach http://{address}/health: {e}")),
        Err(_) => fail(&format!(
            "http://{address}/health did not answer within {timeout:?}"
        )),
    }
}
