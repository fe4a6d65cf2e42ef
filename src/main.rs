fn main() -> std::process::ExitCode {
    groupmap::cli::main()
}
