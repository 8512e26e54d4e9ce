//! Seed example: find the bus whose provider is `nfit_test.0`.
use ndctl_testsupport::seed;

fn main() -> std::process::ExitCode {
    seed::run("bus_by_provider", |ctx| {
        Ok(ctx
            .bus_by_provider("nfit_test.0")?
            .map(|b| format!("{} provider={} ndctl{}", b.devname(), b.provider(), b.id())))
    })
}
