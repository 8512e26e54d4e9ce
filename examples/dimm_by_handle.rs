//! Seed example: find the DIMM `DIMM_HANDLE(0,0,0,0,0)` on bus `nfit_test.0`.
use ndctl_testsupport::seed;

use ndctl::dimm::Handle;

fn main() -> std::process::ExitCode {
    seed::run("dimm_by_handle", |ctx| {
        let Some(bus) = ctx.bus_by_provider("nfit_test.0")? else {
            return Ok(None);
        };
        let handle = Handle::new(0, 0, 0, 0, 0);
        Ok(bus.dimm_by_handle(handle.0)?.map(|d| {
            format!(
                "{} handle={:#x} (node {} socket {} imc {} channel {} dimm {})",
                d.devname(),
                handle.0,
                handle.node(),
                handle.socket(),
                handle.imc(),
                handle.channel(),
                handle.dimm()
            )
        }))
    })
}
