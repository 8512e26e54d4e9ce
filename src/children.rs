//! The skeleton of the object tree: the node every device object is built on, and the
//! lazily scanned, deduplicated lists of child objects.
//!
//! A level of the tree is enumerated only when first asked for. Rescans keep the existing
//! object for a name that is still there (so references handed out, including raw pointers
//! through the C ABI, stay valid for the context's lifetime) and only add new ones.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::btt::Btt;
use crate::dax::Dax;
use crate::error::{Error, Result};
use crate::logging::Logger;
use crate::namespace::Namespace;
use crate::pfn::Pfn;
use crate::region::Region;
use crate::sysfs::Device;

/// The name of the block device a namespace or claim made (`block/<name>`), read when
/// first asked and kept until the object forgets it (an invalidation).
///
/// Every name it held stays allocated, at the same address, as long as the object: C
/// callers keep the pointer libndctl hands out (`ndctl_namespace_get_block_device`), so a
/// name read again that changed is added, never put in place of the old one. A disk is
/// renamed only by disabling and enabling its device, so the list stays short.
#[derive(Debug, Default)]
pub(crate) struct BlockDeviceName(Mutex<KeptNames>);

#[derive(Debug, Default)]
struct KeptNames {
    /// The last name must be read again before it is handed out.
    stale: bool,
    /// Every name read; the last is the current one.
    names: Vec<Box<std::ffi::CStr>>,
}

impl BlockDeviceName {
    /// The current name: the kept one, or what `read` finds (nothing kept when there is
    /// no block device, so the next call looks again, as libndctl does).
    pub(crate) fn get(
        &self,
        read: impl FnOnce() -> Result<Option<String>>,
    ) -> Result<Option<&std::ffi::CStr>> {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if kept.stale || kept.names.is_empty() {
            let Some(name) = read()? else {
                return Ok(None);
            };
            let Ok(name) = std::ffi::CString::new(name) else {
                return Ok(None);
            };
            kept.stale = false;
            if kept.names.last().map(|n| &**n) != Some(name.as_c_str()) {
                // Mostly the only name the object ever has: no room for more.
                kept.names.reserve_exact(1);
                kept.names.push(name.into_boxed_c_str());
            }
        }
        let Some(last) = kept.names.last() else {
            return Ok(None);
        };
        let current: *const std::ffi::CStr = &**last;
        // SAFETY: the boxed name is never freed or moved while `self` lives (names are
        // only ever pushed; a growing Vec moves the boxes, not what they point to).
        Ok(Some(unsafe { &*current }))
    }

    /// Read the name again when next asked.
    pub(crate) fn forget(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).stale = true;
    }
}

/// What every device object of the tree has: its sysfs device, the number in its name, and
/// whether the last scan of its parent still saw it. Every object dereferences to its node,
/// so `device()`, `id()` and `devname()` are the same methods everywhere.
#[derive(Debug)]
pub struct Node {
    dev: Device,
    id: u32,
    present: AtomicBool,
}

impl Node {
    pub(crate) fn new(dev: Device, id: u32) -> Node {
        Node {
            dev,
            id,
            present: AtomicBool::new(true),
        }
    }

    /// The sysfs device.
    pub fn device(&self) -> &Device {
        &self.dev
    }

    /// The number in the device name (`N` of `regionN`, `namespaceR.N`, `ndctlN`, ...).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The device name (`regionN`, `nmemN`, `namespaceR.N`, ...).
    pub fn devname(&self) -> &str {
        self.dev.name()
    }

    /// The device name as a C string that lives as long as the object (what the C
    /// library hands out, without a copy per context).
    pub fn devname_cstr(&self) -> &std::ffi::CStr {
        self.dev.name_cstr()
    }

    /// Unbind the device from its driver, if it has one. An unbind the kernel did not carry
    /// out (the device is still bound afterwards) is [`Error::Busy`].
    pub(crate) fn unbind_driver(&self) -> Result<()> {
        if self.dev.has_driver()? {
            self.dev.unbind()?;
            if self.dev.has_driver()? {
                return Err(Error::Busy {
                    object: self.devname().into(),
                    reason: "failed to disable".into(),
                });
            }
        }
        Ok(())
    }

    pub(crate) fn is_present(&self) -> bool {
        self.present.load(Ordering::Relaxed)
    }

    pub(crate) fn set_present(&self, v: bool) {
        self.present.store(v, Ordering::Relaxed)
    }
}

/// Implemented by objects kept in a [`ChildList`]: anything built on a [`Node`].
pub(crate) trait Child {
    fn node(&self) -> &Node;
    /// The name rescans recognise the object by (its directory name).
    fn child_name(&self) -> &str {
        self.node().devname()
    }
}

/// Makes `$ty` an object of the tree built on the field `$field` (a [`Node`], or a core
/// that itself dereferences to one): it dereferences to it and can live in a [`ChildList`].
macro_rules! tree_object {
    ($ty:ty, $field:ident: $target:ty) => {
        impl std::ops::Deref for $ty {
            type Target = $target;
            fn deref(&self) -> &$target {
                &self.$field
            }
        }
        impl $crate::children::Child for $ty {
            fn node(&self) -> &$crate::children::Node {
                &self.$field
            }
        }
    };
}
pub(crate) use tree_object;

/// The children of one list in iteration order, with an index by the number in their
/// names (lookups by name, from a `holder` or a `*_seed`, and rescans would otherwise
/// compare against every child: quadratic over a region of thousands).
#[derive(Debug)]
struct Items<T> {
    list: Vec<Arc<T>>,
    /// Number in the name -> position in `list` of the first child bearing it (32 bits:
    /// half the memory of a `usize` per child, and a list never holds 4 billion).
    by_id: HashMap<u32, u32>,
}

impl<T: Child> Items<T> {
    fn new(list: Vec<Arc<T>>) -> Items<T> {
        let mut by_id = HashMap::with_capacity(list.len());
        for (i, c) in list.iter().enumerate() {
            if let Ok(i) = u32::try_from(i) {
                by_id.entry(c.node().id()).or_insert(i);
            }
        }
        Items { list, by_id }
    }

    /// Position of the child named `name` whose number is `id`.
    fn position(&self, id: u32, name: &str) -> Option<usize> {
        let i = self.by_id.get(&id).and_then(|&i| usize::try_from(i).ok());
        match i.filter(|&i| i < self.list.len()) {
            Some(i) if self.list[i].child_name() == name => Some(i),
            // Two children with one number (a vanished `namespace1.0`, a new
            // `namespace1.00`): rare, look at each.
            Some(_) => self.list.iter().position(|c| c.child_name() == name),
            None => None,
        }
    }
}

#[derive(Debug)]
pub(crate) struct ChildList<T> {
    // None: never scanned. Objects that disappeared stay here (not present) until the
    // context goes away.
    items: Mutex<Option<Items<T>>>,
    // Objects of a previous generation (their region was disabled): no longer listed,
    // kept alive so that references to them stay valid.
    retired: Mutex<Vec<Arc<T>>>,
    // The context's logger, for the children a scan skips.
    logger: Arc<Logger>,
    // Set when the context ended (see [`ChildList::clear`]): lists are made afresh for
    // each call and kept by nobody but the caller.
    released: AtomicBool,
}

impl<T: Child> ChildList<T> {
    pub(crate) fn new(logger: &Arc<Logger>) -> ChildList<T> {
        ChildList {
            items: Mutex::new(None),
            retired: Mutex::new(Vec::new()),
            logger: Arc::clone(logger),
            released: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Items<T>>> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the children, scanning on first use.
    fn with_items<S, M, R>(&self, scan: S, make: M, f: impl FnOnce(&Items<T>) -> R) -> Result<R>
    where
        S: FnOnce() -> Result<Vec<(u32, PathBuf)>>,
        M: FnMut(u32, PathBuf) -> Result<Arc<T>>,
    {
        let mut guard = self.lock();
        if self.released.load(Ordering::Acquire) {
            // An object outlived its context and is asked for its children: list them
            // for this call only. Kept here, they would hold their parent, which holds
            // this list: a cycle no one is left to break.
            let mut items = Items::new(Vec::new());
            self.merge(&mut items, scan, make)?;
            return Ok(f(&items));
        }
        let items = match guard.take() {
            Some(items) => items,
            None => {
                let mut items = Items::new(Vec::new());
                self.merge(&mut items, scan, make)?;
                items
            }
        };
        Ok(f(guard.insert(items)))
    }

    /// The present children, scanning on first use.
    pub(crate) fn get<S, M>(&self, scan: S, make: M) -> Result<Vec<Arc<T>>>
    where
        S: FnOnce() -> Result<Vec<(u32, PathBuf)>>,
        M: FnMut(u32, PathBuf) -> Result<Arc<T>>,
    {
        self.with_items(scan, make, |items| {
            items
                .list
                .iter()
                .filter(|c| c.node().is_present())
                .cloned()
                .collect()
        })
    }

    /// The present child named `name`, scanning on first use, without copying the list:
    /// one lookup by the number in the name (`id`), or a look at each child when the
    /// name's number could not be read the way a scan reads it.
    pub(crate) fn find<S, M>(
        &self,
        scan: S,
        make: M,
        id: Option<u32>,
        name: &str,
    ) -> Result<Option<Arc<T>>>
    where
        S: FnOnce() -> Result<Vec<(u32, PathBuf)>>,
        M: FnMut(u32, PathBuf) -> Result<Arc<T>>,
    {
        self.with_items(scan, make, |items| {
            match id {
                Some(id) => items.position(id, name),
                None => items.list.iter().position(|c| c.child_name() == name),
            }
            .map(|i| &items.list[i])
            .filter(|c| c.node().is_present())
            .cloned()
        })
    }

    /// Scan again: keep known children, add new ones, mark vanished ones absent.
    pub(crate) fn rescan<S, M>(&self, scan: S, make: M) -> Result<()>
    where
        S: FnOnce() -> Result<Vec<(u32, PathBuf)>>,
        M: FnMut(u32, PathBuf) -> Result<Arc<T>>,
    {
        let mut guard = self.lock();
        match guard.as_mut() {
            // Never listed: the next get() scans anyway.
            None => Ok(()),
            Some(items) => self.merge(items, scan, make),
        }
    }

    /// The present child listed after `item` (libndctl's `get_next`), without copying the
    /// list. `None` at the end, or when the list was never scanned.
    pub(crate) fn after(&self, item: &T) -> Option<Arc<T>> {
        let guard = self.lock();
        let items = guard.as_ref()?;
        let pos = items
            .position(item.node().id(), item.child_name())
            .filter(|&i| std::ptr::eq(Arc::as_ptr(&items.list[i]), item))
            .or_else(|| {
                items
                    .list
                    .iter()
                    .position(|c| std::ptr::eq(Arc::as_ptr(c), item))
            })?;
        items.list[pos + 1..]
            .iter()
            .find(|c| c.node().is_present())
            .cloned()
    }

    /// Every child ever seen, present or not.
    pub(crate) fn all(&self) -> Vec<Arc<T>> {
        self.lock()
            .as_ref()
            .map(|items| items.list.clone())
            .unwrap_or_default()
    }

    /// Forget the current children (keeping them alive); the next listing scans afresh
    /// and creates new objects.
    pub(crate) fn retire(&self) {
        let old = self
            .lock()
            .take()
            .map(|items| items.list)
            .unwrap_or_default();
        for c in &old {
            c.node().set_present(false);
        }
        self.retired
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(old);
    }

    /// Drop the retired children: references the list held to objects of a previous
    /// generation go away (holders of their `Arc` keep them alive).
    pub(crate) fn drop_retired(&self) {
        self.retired
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Drop every child for good: breaks the parent/child reference cycles when the
    /// context ends. Later listings (of an object someone still holds) are made for each
    /// call and not kept, and rescans do nothing.
    pub(crate) fn clear(&self) {
        let mut guard = self.lock();
        self.released.store(true, Ordering::Release);
        *guard = None;
        drop(guard);
        self.retired
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Every child including retired ones (for releasing cycles).
    pub(crate) fn everything(&self) -> Vec<Arc<T>> {
        let mut v = self.all();
        v.extend(
            self.retired
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .cloned(),
        );
        v
    }

    fn merge<S, M>(&self, items: &mut Items<T>, scan: S, mut make: M) -> Result<()>
    where
        S: FnOnce() -> Result<Vec<(u32, PathBuf)>>,
        M: FnMut(u32, PathBuf) -> Result<Arc<T>>,
    {
        let found = scan()?;
        let mut seen = vec![false; items.list.len()];
        let mut added = Vec::new();
        for (id, path) in found {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(i) = items.position(id, &name) {
                seen[i] = true;
                items.list[i].node().set_present(true);
                continue;
            }
            match make(id, path.clone()) {
                Ok(child) => added.push(child),
                // A device without a required attribute is skipped as libndctl skips it
                // (it may be vanishing under us); garbage in an attribute is an error.
                Err(e @ Error::Missing { .. }) => {
                    crate::ctx_log!(
                        self.logger,
                        log::Level::Warn,
                        "{}: skipped: {e}",
                        path.display()
                    )
                }
                Err(e) => return Err(e),
            }
        }
        for (i, s) in seen.iter().enumerate() {
            if !s {
                items.list[i].node().set_present(false);
            }
        }
        if !added.is_empty() {
            // libndctl inserts at the head of its lists: iteration is the reverse of
            // readdir.
            added.reverse();
            added.append(&mut items.list);
            *items = Items::new(added);
        }
        Ok(())
    }
}

/// A kind of device carved from a region: namespaces and the btt, pfn and dax devices that
/// claim them. Each kind is one file implementing this; the region lists, rescans,
/// invalidates and retires every kind the same way.
pub(crate) trait ChildKind: Child + Sized + 'static {
    /// The directory prefix (`namespace` of `namespaceR.N`); the region's `<prefix>_seed`
    /// names the idle one.
    const PREFIX: &'static str;
    /// Reads the object from its directory (`Error::Missing` skips a vanishing device).
    fn new(region: Arc<Region>, id: u32, path: PathBuf) -> Result<Arc<Self>>;
    /// The region's list of this kind.
    fn list(region: &Region) -> &ChildList<Self>;
    /// Forgets cached attributes.
    fn invalidate(&self);
}

/// The region's lists of child devices, one per [`ChildKind`].
#[derive(Debug)]
pub(crate) struct Children {
    pub(crate) namespaces: ChildList<Namespace>,
    pub(crate) btts: ChildList<Btt>,
    pub(crate) pfns: ChildList<Pfn>,
    pub(crate) daxs: ChildList<Dax>,
}

impl Children {
    pub(crate) fn each(&self) -> [&dyn KindList; 4] {
        [&self.namespaces, &self.btts, &self.pfns, &self.daxs]
    }
}

/// What the region does to every list alike, whatever its kind.
pub(crate) trait KindList {
    fn rescan(&self, region: &Region) -> Result<()>;
    fn invalidate(&self);
    fn retire(&self);
    fn drop_retired(&self);
    fn clear(&self);
}

impl<K: ChildKind> KindList for ChildList<K> {
    fn rescan(&self, region: &Region) -> Result<()> {
        let me = region.arc();
        ChildList::rescan(
            self,
            || region.scan_children(K::PREFIX),
            |id, path| K::new(Arc::clone(&me), id, path),
        )
    }
    fn invalidate(&self) {
        for c in self.all() {
            c.invalidate();
        }
    }
    fn retire(&self) {
        ChildList::retire(self)
    }
    fn drop_retired(&self) {
        ChildList::drop_retired(self)
    }
    fn clear(&self) {
        ChildList::clear(self)
    }
}

/// Listing, stepping through and finding the seed of child devices, alike for every kind.
impl Region {
    /// The devices of one kind (scanned on first use).
    pub(crate) fn list_of<K: ChildKind>(&self) -> Result<Vec<Arc<K>>> {
        let me = self.arc();
        K::list(self).get(
            || self.scan_children(K::PREFIX),
            |id, p| K::new(Arc::clone(&me), id, p),
        )
    }

    /// The device of one kind named `name` (a `holder` or `*_seed` value), looked up by
    /// the number in the name; `None` for a name of another kind or region.
    pub(crate) fn find_of<K: ChildKind>(&self, name: &str) -> Result<Option<Arc<K>>> {
        // The number as a scan reads it: every child of the list bears the prefix.
        let id = match crate::sysfs::parse::child_id(&self.child_prefix(K::PREFIX), name) {
            None => return Ok(None),
            Some(id) => id.ok(),
        };
        let me = self.arc();
        K::list(self).find(
            || self.scan_children(K::PREFIX),
            |id, p| K::new(Arc::clone(&me), id, p),
            id,
            name,
        )
    }

    /// The device of the same kind listed after `item` (libndctl's `get_next`).
    pub(crate) fn child_after<K: ChildKind>(&self, item: &K) -> Option<Arc<K>> {
        K::list(self).after(item)
    }

    /// The idle device of one kind the kernel offers for configuration (`<kind>_seed`).
    pub(crate) fn seed_of<K: ChildKind>(&self) -> Result<Option<Arc<K>>> {
        // Let pending probes finish before reading which device is the seed: the kernel
        // names a new seed when the old one is probed and registers it asynchronously, and
        // unregisters destroyed namespaces the same way; read before that settles, the
        // attribute could name a device the scan below (which waits first) does not list.
        // (libndctl reads the seed without waiting.)
        self.bus().settle_before_scan();
        let attr = format!("{}_seed", K::PREFIX);
        let Some(name) = self.device().read_fresh(&attr)?.into_option() else {
            return Ok(None);
        };
        let name = name.trim();
        if name.is_empty() {
            return Ok(None);
        }
        self.find_of::<K>(name)
    }

    /// The prefix every child of one kind bears in its name (`namespace3.` in region3).
    fn child_prefix(&self, kind: &str) -> String {
        format!("{kind}{}.", self.id())
    }

    /// Lists the region's devices of one kind, after letting the bus finish probing
    /// (libndctl waits before every scan; a list already scanned is answered without
    /// waiting, as libndctl answers from its list).
    fn scan_children(&self, kind: &str) -> Result<Vec<(u32, PathBuf)>> {
        self.bus().settle_before_scan();
        self.device().children(&self.child_prefix(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::BlockDeviceName;

    #[test]
    fn block_device_names_handed_out_stay_where_they_were() {
        fn name(s: &'static str) -> impl FnOnce() -> crate::Result<Option<String>> {
            move || Ok(Some(s.to_string()))
        }
        let n = BlockDeviceName::default();
        let first = n.get(name("pmem0")).unwrap().unwrap().as_ptr();
        // Kept: not read again until forgotten.
        let again = n.get(|| panic!("read again while kept")).unwrap().unwrap();
        assert_eq!(again.as_ptr(), first);
        // No block device now: nothing, and the old name is still valid memory.
        n.forget();
        assert_eq!(n.get(|| Ok(None)).unwrap(), None);
        // SAFETY: the test's claim: a pointer handed out stays valid with the object.
        assert_eq!(unsafe { std::ffi::CStr::from_ptr(first) }, c"pmem0");
        // The same name again is the same string; another is a new one beside it.
        assert_eq!(n.get(name("pmem0")).unwrap().unwrap().as_ptr(), first);
        n.forget();
        let renamed = n.get(name("pmem0s")).unwrap().unwrap();
        assert_eq!(renamed, c"pmem0s");
        assert_ne!(renamed.as_ptr(), first);
        // SAFETY: as above.
        assert_eq!(unsafe { std::ffi::CStr::from_ptr(first) }, c"pmem0");
        // A name with a NUL cannot be a C string: none.
        n.forget();
        assert_eq!(n.get(name("a\0b")).unwrap(), None);
        // A lookup that failed is the caller's error, and the next call looks again.
        n.forget();
        let failed = n.get(|| {
            Err(crate::Error::Io {
                path: "/sys/x/block".into(),
                source: std::io::Error::from_raw_os_error(libc::EMFILE),
            })
        });
        assert!(failed.is_err_and(|e| e.is_resource_exhaustion()));
        assert_eq!(n.get(name("pmem1")).unwrap().unwrap(), c"pmem1");
    }
}
