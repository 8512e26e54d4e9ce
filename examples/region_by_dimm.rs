//! Seed example: find the BLK region (with `--with-blk`) or else the PMEM regions that use
//! DIMM `DIMM_HANDLE(0,0,0,0,0)`, through the regions' mappings.
use ndctl_testsupport::seed;

use ndctl::dimm::Handle;
use ndctl::region::RegionType;

fn main() -> std::process::ExitCode {
    seed::run("region_by_dimm", |ctx| {
        let Some(bus) = ctx.bus_by_provider("nfit_test.0")? else {
            return Ok(None);
        };
        let Some(dimm) = bus.dimm_by_handle(Handle::new(0, 0, 0, 0, 0).0)? else {
            return Ok(None);
        };
        let mut found = Vec::new();
        for region in bus.regions()? {
            for m in region.mappings()? {
                if std::sync::Arc::ptr_eq(m.dimm(), &dimm) {
                    found.push((
                        region.region_type(),
                        region.devname().to_string(),
                        m.offset(),
                    ));
                }
            }
        }
        // Prefer a BLK region when the platform has them, as the seed document does.
        found.sort_by_key(|(t, _, _)| *t != RegionType::Blk);
        Ok(found.first().map(|(t, name, off)| {
            format!(
                "{name} type={} dimm={} dpa={off:#x}",
                t.as_str(),
                dimm.devname()
            )
        }))
    })
}
