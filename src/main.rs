use clap::Parser;
use hotfix::cli::{self, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    let _ = hotfix::STARTED.set(std::time::Instant::now());
    if let Err(e) = color_eyre::install() {
        eprintln!("hotfix: {e}");
    }
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotfix: {e}");
            ExitCode::from(e.code())
        }
    }
}
