//! Lazily scanned, deduplicated lists of child objects.
//!
//! A level of the tree is enumerated only when first asked for. Rescans keep the existing
//! object for a name that is still there (so references handed out, including raw pointers
//! through the C ABI, stay valid for the context's lifetime) and only add new ones.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{Error, Result};
use crate::logging::Logger;

/// Implemented by objects kept in a [`ChildList`].
pub(crate) trait Child {
    /// The device name used to deduplicate across rescans.
    fn child_name(&self) -> &str;
    /// Whether the last scan still saw the object.
    fn presence(&self) -> &Presence;
}

/// Whether an object's directory was seen by the last scan of its parent.
#[derive(Debug)]
pub(crate) struct Presence(AtomicBool);

impl Presence {
    pub(crate) fn new() -> Presence {
        Presence(AtomicBool::new(true))
    }
    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    pub(crate) fn set(&self, v: bool) {
        self.0.store(v, Ordering::Relaxed)
    }
}

#[derive(Debug)]
pub(crate) struct ChildList<T> {
    // None: never scanned. Objects that disappeared stay here (not present) until the
    // context goes away.
    items: Mutex<Option<Vec<Arc<T>>>>,
    // Objects of a previous generation (their region was disabled): no longer listed,
    // kept alive so that references to them stay valid.
    retired: Mutex<Vec<Arc<T>>>,
    // The context's logger, for the children a scan skips.
    logger: Arc<Logger>,
}

impl<T: Child> ChildList<T> {
    pub(crate) fn new(logger: &Arc<Logger>) -> ChildList<T> {
        ChildList {
            items: Mutex::new(None),
            retired: Mutex::new(Vec::new()),
            logger: Arc::clone(logger),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Vec<Arc<T>>>> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The present children, scanning on first use.
    pub(crate) fn get<S, M>(&self, scan: S, make: M) -> Result<Vec<Arc<T>>>
    where
        S: FnOnce() -> Result<Vec<(u32, PathBuf)>>,
        M: FnMut(u32, PathBuf) -> Result<Arc<T>>,
    {
        let mut guard = self.lock();
        if guard.is_none() {
            *guard = Some(Vec::new());
            if let Err(e) = self.merge(guard.as_mut().unwrap_or_else(|| unreachable!()), scan, make)
            {
                *guard = None;
                return Err(e);
            }
        }
        Ok(guard
            .as_ref()
            .map(|v| v.iter().filter(|c| c.presence().get()).cloned().collect())
            .unwrap_or_default())
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
            .iter()
            .position(|c| std::ptr::eq(Arc::as_ptr(c), item))?;
        items[pos + 1..]
            .iter()
            .find(|c| c.presence().get())
            .cloned()
    }

    /// Every child ever seen, present or not.
    pub(crate) fn all(&self) -> Vec<Arc<T>> {
        self.lock().clone().unwrap_or_default()
    }

    /// Forget the current children (keeping them alive); the next listing scans afresh
    /// and creates new objects.
    pub(crate) fn retire(&self) {
        let old = self.lock().take().unwrap_or_default();
        for c in &old {
            c.presence().set(false);
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

    /// Drop every child: breaks the parent/child reference cycles when the context ends.
    pub(crate) fn clear(&self) {
        *self.lock() = None;
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

    fn merge<S, M>(&self, items: &mut Vec<Arc<T>>, scan: S, mut make: M) -> Result<()>
    where
        S: FnOnce() -> Result<Vec<(u32, PathBuf)>>,
        M: FnMut(u32, PathBuf) -> Result<Arc<T>>,
    {
        let found = scan()?;
        let mut seen = vec![false; items.len()];
        let mut added = Vec::new();
        for (id, path) in found {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(i) = items.iter().position(|c| c.child_name() == name) {
                seen[i] = true;
                items[i].presence().set(true);
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
                items[i].presence().set(false);
            }
        }
        // libndctl inserts at the head of its lists: iteration is the reverse of readdir.
        added.reverse();
        added.append(items);
        *items = added;
        Ok(())
    }
}
