//! `mingpian-cloud serve`: the server binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use mingpian_cloud::config::{Config, DEFAULT_CONFIG};
use mingpian_cloud::{AppState, serve};
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
#[command(name = "mingpian-cloud", version, about = "The Mingpian cloud server")]
struct Cli {
    /// Print a commented example configuration and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Configuration file (TOML).
    #[arg(long, global = true, env = "MINGPIAN_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API, the web cards and live delivery.
    Serve {
        /// Address to listen on (default 127.0.0.1:8787).
        #[arg(long)]
        listen: Option<String>,
        /// Directory of the embedded SQLite database.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// postgres://… selects PostgreSQL.
        #[arg(long)]
        database_url: Option<String>,
        /// The URL people reach this server at (codes are built from it).
        #[arg(long)]
        public_url: Option<String>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if cli.print_default_config {
        print!("{DEFAULT_CONFIG}");
        return std::process::ExitCode::SUCCESS;
    }
    init_logs();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mingpian-cloud: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mingpian-cloud: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Logs on stdout: `MINGPIAN_LOG` filters them (`info` by default), `MINGPIAN_LOG_FORMAT=json`
/// writes one JSON object a line (with the span path: request id, route), and
/// `MINGPIAN_LOG_SPANS=1` adds a line when each span closes, with its time (what the load test
/// reads to show where the slowest exchange spent it).
fn init_logs() {
    use tracing_subscriber::fmt::format::FmtSpan;
    let filter = tracing_subscriber::EnvFilter::try_from_env("MINGPIAN_LOG")
        .unwrap_or_else(|_| "info".into());
    let spans = if std::env::var("MINGPIAN_LOG_SPANS").is_ok_and(|v| v == "1") {
        FmtSpan::CLOSE
    } else {
        FmtSpan::NONE
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(spans);
    if std::env::var("MINGPIAN_LOG_FORMAT").is_ok_and(|v| v == "json") {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let Some(Command::Serve {
        listen,
        data_dir,
        database_url,
        public_url,
    }) = cli.command
    else {
        anyhow::bail!("nothing to do: try `mingpian-cloud serve` or `--help`");
    };
    let mut config = Config::load(cli.config.as_deref(), |k| std::env::var(k).ok())?;
    if let Some(v) = listen {
        config.listen = v;
    }
    if let Some(v) = data_dir {
        config.data_dir = v;
    }
    if let Some(v) = database_url {
        config.database_url = Some(v);
    }
    if let Some(v) = public_url {
        config.public_url = Some(v);
    }
    let listener = TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr: SocketAddr = listener.local_addr()?;
    let state = AppState::new(config, addr).await?;
    tracing::info!(%addr, public_url = %state.public_url, "mingpian-cloud serving");
    serve(listener, state, shutdown_signal()).await
}

/// SIGTERM or Ctrl-C: stop accepting, finish what is in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
