//! Seed example: find the PMEM region described by NFIT SPA range index 1 on `nfit_test.0`.
use ndctl_testsupport::seed;

use ndctl::region::RegionType;

fn main() -> std::process::ExitCode {
    seed::run("region_by_spa_index", |ctx| {
        let Some(bus) = ctx.bus_by_provider("nfit_test.0")? else {
            return Ok(None);
        };
        for region in bus.regions()? {
            if region.region_type() == RegionType::Pmem && region.range_index()? == Some(1) {
                return Ok(Some(format!(
                    "{} range_index=1 size={} ways={}",
                    region.devname(),
                    region.size(),
                    region.interleave_ways()
                )));
            }
        }
        Ok(None)
    })
}
