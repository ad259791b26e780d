fn main() -> std::process::ExitCode {
    evalgate_cli::cli::main()
}
