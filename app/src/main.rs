use std::process::ExitCode;

use app::config::{Cli, Command};
use app::persistence::fan_out::Sinks;
use app::services::seed;
use app::startup::{Application, build_state, open_database};
use clap::Parser;

/// glibc's allocator was about a quarter of the server's CPU under checkout load (perf:
/// `_int_malloc`, `free`, `malloc_consolidate`, mostly from JSON and statement values);
/// mimalloc's thread-local free lists make the same allocations cheaper. BENCHMARKS.md has
/// the interleaved runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve(cli.serve.clone()));
    let log = match &command {
        Command::Serve(args) => (args.log.clone(), args.log_format),
        _ => (cli.serve.log.clone(), cli.serve.log_format),
    };
    app::telemetry::init(&log.0, log.1);
    match run(command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Openapi => {
            let document =
                serde_json::to_string_pretty(&app::http::openapi()).map_err(|e| e.to_string())?;
            println!("{document}");
        }
        Command::Migrate(args) => {
            open_database(&args).await.map_err(|e| e.to_string())?;
            eprintln!("migrations applied");
        }
        Command::Seed(args) => {
            let state = build_state(&args, None, i32::MAX, 0, false, Sinks::default())
                .await
                .map_err(|e| e.to_string())?;
            let report = seed::load(&state).await.map_err(|e| e.to_string())?;
            eprintln!(
                "seeded: {} merchants created, {} documents published (what existed was left alone)",
                report.merchants_created, report.documents_published
            );
        }
        Command::Serve(args) => {
            let application = Application::build(&args).await.map_err(|e| e.to_string())?;
            let base = format!("http://{}:{}", args.addr.ip(), application.port());
            if let Some(key) = &application.generated_admin_key {
                println!(
                    "A platform admin API key was generated. It is shown only now; store it:\n\n    {key}\n"
                );
            }
            println!("orderflow is listening on {base}");
            println!("API docs: {base}/docs  (OpenAPI document: {base}/openapi.json)");
            println!("Admin console: {base}/admin/  (sign in with an admin API key)");
            application
                .run_until_stopped()
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
