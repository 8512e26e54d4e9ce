//! Seed example: find an idle (unconfigured, disabled) btt on `nfit_test.0`.
use ndctl_testsupport::seed;

fn main() -> std::process::ExitCode {
    seed::run("idle_btt", |ctx| {
        let Some(bus) = ctx.bus_by_provider("nfit_test.0")? else {
            return Ok(None);
        };
        for region in bus.regions()? {
            for btt in region.btts()? {
                if !btt.is_enabled()? && !btt.is_configured()? {
                    let (sizes, _) = btt.sector_sizes()?;
                    return Ok(Some(format!(
                        "{} in {} uuid={} sector sizes {:?}",
                        btt.devname(),
                        region.devname(),
                        btt.uuid()?,
                        sizes
                    )));
                }
            }
        }
        Ok(None)
    })
}
