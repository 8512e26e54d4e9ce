//! Storage backends: a file or block device (pread/pwrite), a shared memory mapping, and plain
//! memory; plus the durability modes that decide what "persist" means for each.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::RwLock;

use super::error::{BttError, Result};

/// What [`Storage::persist`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Nothing: writes become durable whenever the OS decides (tests, scratch images).
    None,
    /// `fdatasync` for files and block devices, `msync(MS_SYNC)` for mappings.
    Sync,
    /// CPU cache write-back (clwb, else clflushopt, else clflush) of the written lines and a
    /// store fence: the persistence model of a DAX mapping of real persistent memory. Only
    /// for [`MmapStorage`].
    CacheFlush,
}

impl Durability {
    /// Name used in messages and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Durability::None => "none",
            Durability::Sync => "sync",
            Durability::CacheFlush => "cache-flush",
        }
    }
}

/// Byte-addressable storage holding a namespace.
///
/// Implementations must allow concurrent calls from several threads. The engine never reads
/// and writes the same data block concurrently (that is the BTT protocol's job), but map
/// entries are read without locks while another thread may update them, so
/// [`Storage::read_u32`] / [`Storage::write_u32`] must be single-copy atomic for aligned words.
pub trait Storage: Send + Sync {
    /// Total size in bytes.
    fn size(&self) -> u64;
    /// Fill `buf` from `offset`. The engine checks bounds before calling.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Write `buf` at `offset` (not necessarily durable yet).
    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()>;
    /// Make every completed write that overlaps `[offset, offset + len)` durable, with
    /// ordering: nothing written later can become durable before it.
    fn persist(&self, offset: u64, len: u64) -> io::Result<()>;
    /// Read an aligned little-endian u32 atomically.
    fn read_u32(&self, offset: u64) -> io::Result<u32> {
        let mut b = [0u8; 4];
        self.read_at(offset, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    /// Write an aligned little-endian u32 atomically.
    fn write_u32(&self, offset: u64, value: u32) -> io::Result<()> {
        self.write_at(offset, &value.to_le_bytes())
    }
    /// Write an aligned little-endian u32 atomically where the CPU cache may keep it: it
    /// becomes durable only through a later [`Storage::flush`] of its range followed by a
    /// [`Storage::persist`]. Lets the engine defer a map update's write-back to a
    /// persistence point it pays for anyway. Default: [`Storage::write_u32`].
    fn store_u32(&self, offset: u64, value: u32) -> io::Result<()> {
        self.write_u32(offset, value)
    }
    /// Start making `[offset, offset + len)` durable without waiting: the next
    /// [`Storage::persist`] from this thread (of any range) completes it. Default:
    /// [`Storage::persist`] of the range, which is always correct.
    fn flush(&self, offset: u64, len: u64) -> io::Result<()> {
        self.persist(offset, len)
    }
    /// A hint that `[offset, offset + len)` will be read soon, so that a slow fetch can
    /// overlap other work. Out-of-range hints are ignored. Default: nothing.
    fn prefetch(&self, _offset: u64, _len: u64) {}
}

macro_rules! forward_storage {
    ($($t:ty),*) => {$(
        impl<T: Storage + ?Sized> Storage for $t {
            fn size(&self) -> u64 { (**self).size() }
            fn read_at(&self, o: u64, b: &mut [u8]) -> io::Result<()> { (**self).read_at(o, b) }
            fn write_at(&self, o: u64, b: &[u8]) -> io::Result<()> { (**self).write_at(o, b) }
            fn persist(&self, o: u64, l: u64) -> io::Result<()> { (**self).persist(o, l) }
            fn read_u32(&self, o: u64) -> io::Result<u32> { (**self).read_u32(o) }
            fn write_u32(&self, o: u64, v: u32) -> io::Result<()> { (**self).write_u32(o, v) }
            fn store_u32(&self, o: u64, v: u32) -> io::Result<()> { (**self).store_u32(o, v) }
            fn flush(&self, o: u64, l: u64) -> io::Result<()> { (**self).flush(o, l) }
            fn prefetch(&self, o: u64, l: u64) { (**self).prefetch(o, l) }
        }
    )*};
}
forward_storage!(&T, Box<T>, std::sync::Arc<T>);

/// Bounds-checked read that names the offset on failure.
pub(crate) fn read_exact<S: Storage + ?Sized>(s: &S, offset: u64, buf: &mut [u8]) -> Result<()> {
    check_range(s, offset, buf.len() as u64)?;
    s.read_at(offset, buf).map_err(|source| BttError::Io {
        offset,
        len: buf.len() as u64,
        source,
    })
}

/// Bounds-checked write.
pub(crate) fn write_all<S: Storage + ?Sized>(s: &S, offset: u64, buf: &[u8]) -> Result<()> {
    check_range(s, offset, buf.len() as u64)?;
    s.write_at(offset, buf).map_err(|source| BttError::Io {
        offset,
        len: buf.len() as u64,
        source,
    })
}

/// Write then persist the same range: one durable step of the BTT protocol.
pub(crate) fn write_durable<S: Storage + ?Sized>(s: &S, offset: u64, buf: &[u8]) -> Result<()> {
    write_all(s, offset, buf)?;
    persist(s, offset, buf.len() as u64)
}

pub(crate) fn persist<S: Storage + ?Sized>(s: &S, offset: u64, len: u64) -> Result<()> {
    s.persist(offset, len).map_err(|source| BttError::Io {
        offset,
        len,
        source,
    })
}

pub(crate) fn read_u32<S: Storage + ?Sized>(s: &S, offset: u64) -> Result<u32> {
    check_range(s, offset, 4)?;
    s.read_u32(offset).map_err(|source| BttError::Io {
        offset,
        len: 4,
        source,
    })
}

/// Store an aligned u32 that becomes durable only through [`flush`] and [`persist`].
pub(crate) fn store_u32<S: Storage + ?Sized>(s: &S, offset: u64, v: u32) -> Result<()> {
    check_range(s, offset, 4)?;
    s.store_u32(offset, v).map_err(|source| BttError::Io {
        offset,
        len: 4,
        source,
    })
}

pub(crate) fn flush<S: Storage + ?Sized>(s: &S, offset: u64, len: u64) -> Result<()> {
    s.flush(offset, len).map_err(|source| BttError::Io {
        offset,
        len,
        source,
    })
}

pub(crate) fn check_range<S: Storage + ?Sized>(s: &S, offset: u64, len: u64) -> Result<()> {
    let size = s.size();
    match offset.checked_add(len) {
        Some(end) if end <= size => Ok(()),
        _ => Err(BttError::OutOfBounds { offset, len, size }),
    }
}

fn device_size(file: &File) -> io::Result<u64> {
    // Block devices report st_size 0; seeking to the end gives their capacity.
    let meta = file.metadata()?;
    if meta.is_file() {
        return Ok(meta.len());
    }
    let mut f = file;
    let size = f.seek(SeekFrom::End(0))?;
    f.seek(SeekFrom::Start(0))?;
    Ok(size)
}

/// A regular file or block device accessed with pread/pwrite.
#[derive(Debug)]
pub struct FileStorage {
    file: File,
    size: u64,
    durability: Durability,
}

impl FileStorage {
    /// Open `path` read-only or read-write.
    pub fn open(path: &Path, writable: bool, durability: Durability) -> Result<FileStorage> {
        let file = OpenOptions::new()
            .read(true)
            .write(writable)
            .open(path)
            .map_err(|source| BttError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        FileStorage::new(file, durability)
    }

    /// Wrap an open file. `CacheFlush` is refused: pwrite goes through the page cache.
    pub fn new(file: File, durability: Durability) -> Result<FileStorage> {
        if durability == Durability::CacheFlush {
            return Err(BttError::Unsupported {
                mode: durability.name(),
                reason: "pread/pwrite storage has no CPU-visible mapping; use Sync".into(),
            });
        }
        let size = device_size(&file).map_err(|source| BttError::Io {
            offset: 0,
            len: 0,
            source,
        })?;
        Ok(FileStorage {
            file,
            size,
            durability,
        })
    }
}

impl Storage for FileStorage {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }
    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.file.write_all_at(buf, offset)
    }
    fn persist(&self, _offset: u64, _len: u64) -> io::Result<()> {
        match self.durability {
            Durability::None | Durability::CacheFlush => Ok(()),
            Durability::Sync => self.file.sync_data(),
        }
    }
    fn flush(&self, _offset: u64, _len: u64) -> io::Result<()> {
        // persist syncs the whole file, whatever its range.
        Ok(())
    }
}

/// Plain memory: for tests and for images built in RAM. `persist` does nothing.
#[derive(Debug, Default)]
pub struct MemStorage {
    data: RwLock<Vec<u8>>,
}

impl MemStorage {
    /// Zero-filled storage of `size` bytes.
    pub fn new(size: usize) -> MemStorage {
        MemStorage::from_vec(vec![0; size])
    }

    /// Storage over existing bytes.
    pub fn from_vec(data: Vec<u8>) -> MemStorage {
        MemStorage {
            data: RwLock::new(data),
        }
    }

    /// A copy of the current contents.
    pub fn to_vec(&self) -> Vec<u8> {
        self.data.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The contents.
    pub fn into_vec(self) -> Vec<u8> {
        self.data.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

fn range(offset: u64, len: usize, size: usize) -> io::Result<std::ops::Range<usize>> {
    let start =
        usize::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    match start.checked_add(len) {
        Some(end) if end <= size => Ok(start..end),
        _ => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "access beyond end of storage",
        )),
    }
}

impl Storage for MemStorage {
    fn size(&self) -> u64 {
        self.data.read().unwrap_or_else(|e| e.into_inner()).len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let data = self.data.read().unwrap_or_else(|e| e.into_inner());
        let r = range(offset, buf.len(), data.len())?;
        buf.copy_from_slice(&data[r]);
        Ok(())
    }
    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        let mut data = self.data.write().unwrap_or_else(|e| e.into_inner());
        let r = range(offset, buf.len(), data.len())?;
        data[r].copy_from_slice(buf);
        Ok(())
    }
    fn persist(&self, _offset: u64, _len: u64) -> io::Result<()> {
        Ok(())
    }
    fn flush(&self, _offset: u64, _len: u64) -> io::Result<()> {
        Ok(())
    }
}

/// A shared (`MAP_SHARED`) read-write mapping of a file or device, e.g. a DAX file on
/// persistent memory or a file in /dev/shm.
#[derive(Debug)]
pub struct MmapStorage {
    ptr: NonNull<u8>,
    len: usize,
    durability: Durability,
    // Kept so the mapping's backing object stays open for msync's benefit and diagnostics.
    _file: File,
}

// SAFETY: the mapping is plain shared memory. Concurrent access to the same bytes is
// coordinated by the BTT protocol (lane locks, map locks, RTT); map words, the only bytes
// accessed concurrently by design, go through atomics in read_u32/write_u32.
unsafe impl Send for MmapStorage {}
// SAFETY: see above.
unsafe impl Sync for MmapStorage {}

impl MmapStorage {
    /// Map the whole of `path` read-write and shared.
    pub fn open(path: &Path, durability: Durability) -> Result<MmapStorage> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|source| BttError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        MmapStorage::new(file, durability)
    }

    /// Map an open file read-write and shared.
    pub fn new(file: File, durability: Durability) -> Result<MmapStorage> {
        use nix::sys::mman::{mmap, MapFlags, ProtFlags};
        let io_err = |source: io::Error| BttError::Io {
            offset: 0,
            len: 0,
            source,
        };
        if durability == Durability::CacheFlush && !cache::SUPPORTED {
            return Err(BttError::Unsupported {
                mode: durability.name(),
                reason: "no cache write-back instruction for this CPU architecture".into(),
            });
        }
        let size = device_size(&file).map_err(io_err)?;
        let len = usize::try_from(size)
            .map_err(|_| BttError::InvalidParameter("device too large to map".into()))?;
        let nz = std::num::NonZeroUsize::new(len)
            .ok_or_else(|| BttError::InvalidParameter("cannot map an empty file".into()))?;
        // SAFETY: a fresh shared mapping of a file we keep open; nothing else aliases it in
        // this process.
        let ptr = unsafe {
            mmap(
                None,
                nz,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                &file,
                0,
            )
        }
        .map_err(|e| io_err(io::Error::from(e)))?;
        Ok(MmapStorage {
            ptr: ptr.cast(),
            len,
            durability,
            _file: file,
        })
    }

    fn slice_ptr(&self, offset: u64, len: usize) -> io::Result<*mut u8> {
        let r = range(offset, len, self.len)?;
        // SAFETY: r is inside the mapping.
        Ok(unsafe { self.ptr.as_ptr().add(r.start) })
    }
}

impl Drop for MmapStorage {
    fn drop(&mut self) {
        // SAFETY: ptr/len describe the mapping created in new(); nothing refers to it now.
        let _ = unsafe { nix::sys::mman::munmap(self.ptr.cast(), self.len) };
    }
}

impl Storage for MmapStorage {
    fn size(&self) -> u64 {
        self.len as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let p = self.slice_ptr(offset, buf.len())?;
        // SAFETY: p..p+len is inside the mapping and buf is a distinct allocation.
        unsafe { std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }
    fn write_at(&self, offset: u64, buf: &[u8]) -> io::Result<()> {
        let p = self.slice_ptr(offset, buf.len())?;
        if self.durability == Durability::CacheFlush {
            // Like the kernel's memcpy_flushcache: bulk data bypasses the cache, the rest is
            // written back right away, so persist only has to fence.
            // SAFETY: p..p+len is inside the mapping.
            unsafe { cache::copy_flush(p, buf) };
        } else {
            // SAFETY: as in read_at.
            unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), p, buf.len()) };
        }
        Ok(())
    }
    fn persist(&self, offset: u64, len: u64) -> io::Result<()> {
        let len = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let p = self.slice_ptr(offset, len)?;
        match self.durability {
            Durability::None => Ok(()),
            Durability::Sync => {
                let page = 4096usize;
                let start = (p as usize) & !(page - 1);
                let end = p as usize + len;
                if end == start {
                    return Ok(());
                }
                // SAFETY: the page-aligned range lies within our mapping.
                unsafe {
                    nix::sys::mman::msync(
                        NonNull::new_unchecked(start as *mut libc::c_void),
                        end - start,
                        nix::sys::mman::MsFlags::MS_SYNC,
                    )
                }
                .map_err(io::Error::from)
            }
            Durability::CacheFlush => {
                // write_at/write_u32 already issued the write-backs (or streamed past the
                // cache); the fence orders and completes them.
                cache::fence();
                Ok(())
            }
        }
    }
    fn read_u32(&self, offset: u64) -> io::Result<u32> {
        let p = self.slice_ptr(offset, 4)?;
        if (p as usize) % 4 != 0 {
            let mut b = [0u8; 4];
            self.read_at(offset, &mut b)?;
            return Ok(u32::from_le_bytes(b));
        }
        // SAFETY: aligned, inside the mapping, and only accessed atomically when concurrent.
        let a = unsafe { AtomicU32::from_ptr(p.cast::<u32>()) };
        Ok(u32::from_le(a.load(Ordering::SeqCst)))
    }
    fn write_u32(&self, offset: u64, value: u32) -> io::Result<()> {
        let p = self.slice_ptr(offset, 4)?;
        if (p as usize) % 4 != 0 {
            return self.write_at(offset, &value.to_le_bytes());
        }
        // SAFETY: as in read_u32.
        if self.durability == Durability::CacheFlush {
            // SAFETY: aligned (checked above) and inside the mapping.
            unsafe { cache::stream_u32(p, value.to_le()) };
            return Ok(());
        }
        let a = unsafe { AtomicU32::from_ptr(p.cast::<u32>()) };
        a.store(value.to_le(), Ordering::Release);
        Ok(())
    }
    fn store_u32(&self, offset: u64, value: u32) -> io::Result<()> {
        let p = self.slice_ptr(offset, 4)?;
        if (p as usize) % 4 != 0 || self.durability != Durability::CacheFlush {
            return self.write_u32(offset, value);
        }
        // A plain cached store: flush writes the line back when the engine needs it durable.
        // Release is enough (a SeqCst store is an xchg, which waits for the store buffer):
        // a reader that must not miss this map update is ordered by the writer's SeqCst
        // fence before it looks for readers of the old block (`wait_for_readers`).
        // SAFETY: aligned (checked above), inside the mapping, only accessed atomically when
        // concurrent.
        let a = unsafe { AtomicU32::from_ptr(p.cast::<u32>()) };
        a.store(value.to_le(), Ordering::Release);
        Ok(())
    }
    fn prefetch(&self, offset: u64, len: u64) {
        let Ok(len) = usize::try_from(len) else {
            return;
        };
        if let Ok(p) = self.slice_ptr(offset, len) {
            cache::prefetch(p as usize, len);
        }
    }
    fn flush(&self, offset: u64, len: u64) -> io::Result<()> {
        if self.durability != Durability::CacheFlush {
            return self.persist(offset, len);
        }
        let len = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let p = self.slice_ptr(offset, len)?;
        cache::flush_range(p as usize, len);
        Ok(())
    }
}

/// CPU cache write-back for the CacheFlush durability mode.
mod cache {
    #[cfg(target_arch = "x86_64")]
    mod imp {
        use std::arch::asm;
        use std::sync::OnceLock;

        #[derive(Clone, Copy)]
        enum Insn {
            Clwb,
            Clflushopt,
            Clflush,
        }

        // cpuid became a safe function in newer toolchains; keep building on older ones.
        #[allow(unused_unsafe)]
        fn insn() -> Insn {
            static INSN: OnceLock<Insn> = OnceLock::new();
            *INSN.get_or_init(|| {
                // CPUID leaf 7 EBX: bit 24 CLWB, bit 23 CLFLUSHOPT.
                // SAFETY: cpuid is always available on x86_64.
                let max = unsafe { std::arch::x86_64::__cpuid(0) }.eax;
                if max < 7 {
                    return Insn::Clflush;
                }
                // SAFETY: leaf 7 exists (checked above).
                let ebx = unsafe { std::arch::x86_64::__cpuid_count(7, 0) }.ebx;
                if ebx & (1 << 24) != 0 {
                    Insn::Clwb
                } else if ebx & (1 << 23) != 0 {
                    Insn::Clflushopt
                } else {
                    Insn::Clflush
                }
            })
        }

        pub fn flush_range(addr: usize, len: usize) {
            if len == 0 {
                return;
            }
            let insn = insn();
            let mut line = addr & !63;
            let end = addr + len;
            while line < end {
                // SAFETY: the caller passes a range inside a live mapping; these
                // instructions only write back cache lines and never fault on mapped memory.
                unsafe {
                    match insn {
                        Insn::Clwb => {
                            asm!("clwb [{0}]", in(reg) line, options(nostack, preserves_flags))
                        }
                        Insn::Clflushopt => {
                            asm!("clflushopt [{0}]", in(reg) line, options(nostack, preserves_flags))
                        }
                        Insn::Clflush => {
                            asm!("clflush [{0}]", in(reg) line, options(nostack, preserves_flags))
                        }
                    }
                }
                line += 64;
            }
        }

        pub const SUPPORTED: bool = true;

        /// Non-temporal store of an aligned u64 (movnti). Done in asm so that it counts as a
        /// single atomic store for concurrent readers of the same word.
        ///
        /// # Safety
        /// `dst` must be 8-byte aligned and valid for writes.
        pub unsafe fn stream_u64(dst: *mut u8, v: u64) {
            asm!("movnti [{0}], {1}", in(reg) dst, in(reg) v, options(nostack, preserves_flags));
        }

        /// Non-temporal store of an aligned u32 (movnti), see [`stream_u64`].
        ///
        /// # Safety
        /// `dst` must be 4-byte aligned and valid for writes.
        pub unsafe fn stream_u32(dst: *mut u8, v: u32) {
            asm!("movnti [{0}], {1:e}", in(reg) dst, in(reg) v, options(nostack, preserves_flags));
        }

        /// Copies of at least this many bytes use non-temporal stores (PMDK uses 256 too).
        const MOVNT_THRESHOLD: usize = 256;

        /// Copy `src` to `dst` so that every byte is on its way to memory when this returns:
        /// 16-byte-aligned bulk through non-temporal stores, the ragged ends with normal
        /// stores followed by a cache-line write-back. A later fence completes both.
        ///
        /// # Safety
        /// `dst..dst + src.len()` must be valid for writes and not overlap `src`.
        pub unsafe fn copy_flush(dst: *mut u8, src: &[u8]) {
            use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_stream_si128};
            let len = src.len();
            if len == 8 && (dst as usize) % 8 == 0 {
                // An aligned word (a flog half) goes straight to memory, as the kernel's
                // memcpy_flushcache does for 8-byte copies.
                let mut w = [0u8; 8];
                w.copy_from_slice(src);
                stream_u64(dst, u64::from_ne_bytes(w));
                return;
            }
            if len < MOVNT_THRESHOLD {
                std::ptr::copy_nonoverlapping(src.as_ptr(), dst, len);
                flush_range(dst as usize, len);
                return;
            }
            let head = dst.align_offset(32).min(len);
            std::ptr::copy_nonoverlapping(src.as_ptr(), dst, head);
            flush_range(dst as usize, head);
            let mut off = head;
            if std::is_x86_feature_detected!("avx") {
                // Half the store instructions of the SSE loop: a 4 KiB block is 128 of
                // them, which keeps the store buffer from filling up behind the stream.
                off += stream_avx(dst.add(off), src.as_ptr().add(off), len - off);
            }
            while off + 16 <= len {
                // SAFETY: dst + off is 16-byte aligned; both ranges are in bounds.
                let v = _mm_loadu_si128(src.as_ptr().add(off).cast::<__m128i>());
                _mm_stream_si128(dst.add(off).cast::<__m128i>(), v);
                off += 16;
            }
            let tail = len - off;
            std::ptr::copy_nonoverlapping(src.as_ptr().add(off), dst.add(off), tail);
            flush_range(dst as usize + off, tail);
        }

        /// Non-temporal copy of the whole 32-byte chunks of `len` bytes; returns the bytes
        /// copied.
        ///
        /// # Safety
        /// `dst` must be 32-byte aligned and valid for `len` bytes of writes, `src` valid for
        /// `len` bytes of reads, the two not overlapping, and the CPU must have AVX.
        #[target_feature(enable = "avx")]
        unsafe fn stream_avx(dst: *mut u8, src: *const u8, len: usize) -> usize {
            use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_stream_si256};
            let mut off = 0;
            while off + 32 <= len {
                let v = _mm256_loadu_si256(src.add(off).cast::<__m256i>());
                _mm256_stream_si256(dst.add(off).cast::<__m256i>(), v);
                off += 32;
            }
            off
        }

        /// Start loading the cache line(s) of `[addr, addr + len)`.
        pub fn prefetch(addr: usize, len: usize) {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let mut line = addr & !63;
            while line < addr + len {
                // SAFETY: a prefetch is a hint; it never faults, whatever the address.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(line as *const i8) };
                line += 64;
            }
        }

        pub fn fence() {
            // SAFETY: sfence has no preconditions.
            unsafe { asm!("sfence", options(nostack, preserves_flags)) };
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    mod imp {
        // No cache write-back instruction is wired up for this architecture; MmapStorage
        // refuses the mode (SUPPORTED = false), so these are never reached.
        pub const SUPPORTED: bool = false;
        pub fn fence() {}
        pub fn flush_range(_addr: usize, _len: usize) {}
        pub fn prefetch(_addr: usize, _len: usize) {}
        pub unsafe fn copy_flush(dst: *mut u8, src: &[u8]) {
            std::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len());
        }
        pub unsafe fn stream_u32(dst: *mut u8, v: u32) {
            std::sync::atomic::AtomicU32::from_ptr(dst.cast::<u32>())
                .store(v, std::sync::atomic::Ordering::SeqCst);
        }
    }

    pub use imp::{copy_flush, fence, flush_range, prefetch, stream_u32, SUPPORTED};
}
