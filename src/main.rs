use clap::Parser;
use hotfix::cli::{self, Cli};
use std::process::ExitCode;

/// Prints an error as people and scripts expect it: one JSON object on stderr with `--json`.
fn report(message: &str, code: u8, json: bool) {
    if json {
        let v = serde_json::json!({"error": message, "exit": code});
        eprintln!("{v}");
    } else {
        // Errors quote input and paths: escaped, like everything hotfix prints.
        eprintln!("hotfix: {}", hotfix::sanitize::block(message));
    }
}

fn main() -> ExitCode {
    let _ = hotfix::STARTED.set(std::time::Instant::now());
    // A shell asking for completions (COMPLETE=bash hotfix -- ...) is answered and exits here.
    clap_complete::CompleteEnv::with_factory(<Cli as clap::CommandFactory>::command)
        .var(cli::COMPLETE_VAR)
        .complete();
    if let Err(e) = color_eyre::install() {
        eprintln!("hotfix: {e}");
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() && std::env::args().any(|a| a == "--json") => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or_default();
            let message = first.strip_prefix("error: ").unwrap_or(first);
            report(message, 2, true);
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    let json = cli.json;
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = if json {
                e.message().to_string()
            } else {
                e.to_string()
            };
            report(&message, e.code(), json);
            ExitCode::from(e.code())
        }
    }
}
