fn main() -> std::process::ExitCode {
    vitesse_api::cli::main()
}
