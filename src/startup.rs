//! `Application`: opens the store, binds the listener (port 0 in tests), runs until stopped.

use crate::config::Settings;
use crate::fixtures;
use crate::graph::middleware::{EdgeSettings, graph_envelope};
use crate::routes::{AppState, admin, health, openapi, vpp_tokens};
use crate::store::{Store, StoreError, WriterTask};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use std::net::TcpListener;
use std::sync::Arc;

/// Why the emulator could not start, in one line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot load the seed fixtures: {0}")]
    Seed(#[from] crate::fixtures::FixtureError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

pub struct Application {
    port: u16,
    server: Server,
    store: Store,
    writer: WriterTask,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let (store, writer) = Store::open(&settings.database).await?;
        seed(&store, &settings).await?;
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartError::Bind {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind { address, source })?
            .port();
        let state = AppState {
            store: store.clone(),
            settings: Arc::new(settings),
        };
        let server = serve(listener, state).map_err(|source| StartError::Bind {
            address: format!("port {port}"),
            source,
        })?;
        Ok(Application {
            port,
            server,
            store,
            writer,
        })
    }

    /// The port actually bound (the configured one, or the one the OS chose for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server gracefully (in-flight requests finish).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT or `handle().stop()`, then closes the database (the writer
    /// checkpoints the WAL).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.store.close(self.writer).await;
        served
    }
}

/// Applies `seed.path` in `seed.mode` before the server listens, so that ready means seeded.
async fn seed(store: &Store, settings: &Settings) -> Result<(), StartError> {
    let Some(path) = settings.seed_path() else {
        return Ok(());
    };
    let started = std::time::Instant::now();
    let sets = fixtures::read_path(path, fixtures::Rules::of(settings))?;
    let reports = store.load(fixtures::plan(sets, settings.seed.mode)).await?;
    tracing::info!(path = %path.display(), "seeded: {}", fixtures::summary(&reports, started.elapsed()));
    Ok(())
}

/// `server.workers`, where 0 means three per core. A worker's requests wait while SQLite runs on
/// its own threads (sqlx gives each connection one), and with one worker per core the cores sat
/// partly idle under load. Measured on 2 cores with 64 connections: list pages at 1,500 to
/// 1,800/s with 2 workers, 2,000 to 2,300/s with 4, 2,200 to 2,600/s with 6, no better beyond.
fn http_workers(configured: usize) -> usize {
    match configured {
        0 => 3 * std::thread::available_parallelism().map_or(1, usize::from),
        workers => workers,
    }
}

fn serve(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let settings = state.settings.clone();
    let edge = web::Data::new(EdgeSettings {
        public_base_url: settings.public_base_url().map(str::to_owned),
        max_url_bytes: settings.limits.max_url_bytes,
    });
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(graph_envelope))
            .app_data(state.clone())
            .app_data(edge.clone())
            .route("/health", web::get().to(health::health))
            .route("/openapi.json", web::get().to(openapi::openapi))
            .service(admin::scope())
            .default_service(web::to(vpp_tokens::dispatch))
    })
    .listen(listener)?
    .shutdown_timeout(settings.server.shutdown_timeout_seconds);
    Ok(server.workers(http_workers(settings.server.workers)).run())
}
