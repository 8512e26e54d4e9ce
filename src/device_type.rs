//! libnvdimm device types (`ND_DEVICE_*`): what the kernel's `nstype` attribute says a
//! region holds or a namespace is.

/// A libnvdimm device type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceType {
    Dimm,
    RegionPmem,
    RegionBlk,
    NamespaceIo,
    NamespacePmem,
    NamespaceBlk,
    DaxPmem,
    /// A value this library does not know (kept, as libndctl keeps it).
    Other(u32),
}

impl DeviceType {
    /// The type of a kernel `ND_DEVICE_*` value (the number in `nstype`).
    pub fn from_code(code: u32) -> DeviceType {
        match code {
            1 => DeviceType::Dimm,
            2 => DeviceType::RegionPmem,
            3 => DeviceType::RegionBlk,
            4 => DeviceType::NamespaceIo,
            5 => DeviceType::NamespacePmem,
            6 => DeviceType::NamespaceBlk,
            7 => DeviceType::DaxPmem,
            other => DeviceType::Other(other),
        }
    }

    /// The kernel's `ND_DEVICE_*` value.
    pub fn code(self) -> u32 {
        match self {
            DeviceType::Dimm => 1,
            DeviceType::RegionPmem => 2,
            DeviceType::RegionBlk => 3,
            DeviceType::NamespaceIo => 4,
            DeviceType::NamespacePmem => 5,
            DeviceType::NamespaceBlk => 6,
            DeviceType::DaxPmem => 7,
            DeviceType::Other(code) => code,
        }
    }

    /// libndctl's name of the type (`namespace_pmem`, ...; `unknown` for others).
    pub fn name(self) -> &'static str {
        match self {
            DeviceType::Dimm => "dimm",
            DeviceType::RegionPmem => "pmem",
            DeviceType::RegionBlk => "blk",
            DeviceType::NamespaceIo => "namespace_io",
            DeviceType::NamespacePmem => "namespace_pmem",
            DeviceType::NamespaceBlk => "namespace_blk",
            DeviceType::DaxPmem => "dax_pmem",
            DeviceType::Other(_) => "unknown",
        }
    }

    /// Whether namespaces of this type are described by labels (PMEM and BLK; IO
    /// namespaces are fixed by the platform).
    pub fn is_labelled(self) -> bool {
        matches!(self, DeviceType::NamespacePmem | DeviceType::NamespaceBlk)
    }
}

#[cfg(test)]
mod tests {
    use super::DeviceType;

    #[test]
    fn codes_round_trip() {
        for code in 0..10 {
            assert_eq!(DeviceType::from_code(code).code(), code);
        }
        assert_eq!(DeviceType::from_code(5).name(), "namespace_pmem");
        assert_eq!(DeviceType::from_code(99).name(), "unknown");
        assert!(DeviceType::NamespaceBlk.is_labelled() && !DeviceType::NamespaceIo.is_labelled());
    }
}
