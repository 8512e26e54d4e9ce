//! Seed example: find namespace id 0 of the region with SPA range index 1 on `nfit_test.0`.
use ndctl_testsupport::seed;

fn main() -> std::process::ExitCode {
    seed::run("namespace_by_id", |ctx| {
        let Some(bus) = ctx.bus_by_provider("nfit_test.0")? else {
            return Ok(None);
        };
        let Some(region) = bus.region_by_range_index(1)? else {
            return Ok(None);
        };
        Ok(region.namespace_by_id(0)?.map(|ns| {
            format!(
                "{} type={} size={} region={}",
                ns.devname(),
                ns.type_name(),
                ns.size(),
                ns.region().devname()
            )
        }))
    })
}
