//! The command line: `serve` (the default), `migrate`, `healthcheck`. Every failure is one line
//! on stderr and a non-zero exit, never a panic trace.

use crate::config::{SeedMode, Settings};
use crate::fixtures::{self, Document};
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
    /// Load fixtures (a file, or a folder of *.json applied in name order) in one transaction.
    Seed {
        /// Fixture file or folder.
        path: PathBuf,
        /// if-empty: only tenants without tokens; upsert: replace tokens by id; replace: wipe the
        /// fixtures' tenants first.
        #[arg(long, value_enum, default_value = "upsert")]
        mode: SeedMode,
    },
    /// Write a tenant's tokens and licences in the fixture format (seed reads it back exactly).
    Export {
        /// Tenant to export (default: auth.default_tenant_id).
        #[arg(long)]
        tenant: Option<String>,
        /// File to write (default: standard output).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
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
            Command::Seed { path, mode } => seed(&settings, &path, mode).await,
            Command::Export { tenant, output } => export(&settings, tenant, output).await,
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

async fn seed(settings: &Settings, path: &std::path::Path, mode: SeedMode) -> ExitCode {
    let started = std::time::Instant::now();
    let sets = match fixtures::read_path(path, fixtures::Rules::of(settings)) {
        Ok(sets) => sets,
        Err(e) => return fail(&e),
    };
    let (store, writer) = match Store::open(&settings.database).await {
        Ok(opened) => opened,
        Err(e) => return fail(&e),
    };
    let result = store.load(fixtures::plan(sets, mode)).await;
    store.close(writer).await;
    match result {
        Ok(reports) => {
            println!("seeded {}", fixtures::summary(&reports, started.elapsed()));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("seeding failed, nothing was changed: {e}")),
    }
}

async fn export(settings: &Settings, tenant: Option<String>, output: Option<PathBuf>) -> ExitCode {
    let started = std::time::Instant::now();
    let tenant = tenant.unwrap_or_else(|| settings.auth.default_tenant_id.clone());
    let (store, writer) = match Store::open(&settings.database).await {
        Ok(opened) => opened,
        Err(e) => return fail(&e),
    };
    let data = store.export(&tenant).await;
    store.close(writer).await;
    let data = match data {
        Ok(data) => data,
        Err(e) => return fail(&e),
    };
    let text = match serde_json::to_string_pretty(&Document::of(&data)) {
        Ok(text) => text + "\n",
        Err(e) => return fail(&e),
    };
    let written = match &output {
        Some(file) => {
            std::fs::write(file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))
        }
        None => std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes())
            .map_err(|e| e.to_string()),
    };
    if let Err(e) = written {
        return fail(&e);
    }
    // The summary goes to stderr so that standard output stays a clean fixture document.
    eprintln!(
        "exported tenant {tenant}: {} vppTokens, {} licenses in {} ms",
        data.tokens.len(),
        data.licenses.len(),
        started.elapsed().as_millis()
    );
    ExitCode::SUCCESS
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
