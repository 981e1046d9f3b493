fn main() -> std::process::ExitCode {
    vpp_emulator::cli::main()
}
