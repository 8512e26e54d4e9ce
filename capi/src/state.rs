//! Per-handle state the C API keeps beside the Rust objects (badblock cursors, injected
//! error lists, label areas), as libndctl keeps it inside its objects.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use crate::handles::lock;

/// State kept for one C handle. The weak reference keeps the object's allocation (and so
/// its address) reserved, so a later object can never inherit the state; entries of
/// objects that are gone (their context released) are dropped on the next insertion.
pub(crate) struct Slot<V> {
    owner: Weak<dyn Any + Send + Sync>,
    value: V,
}

/// Per-handle state, keyed by the handle's address.
pub(crate) struct Table<V>(Mutex<Option<HashMap<usize, Slot<V>>>>);

impl<V> Table<V> {
    pub(crate) const fn new() -> Self {
        Table(Mutex::new(None))
    }

    /// Runs `f` on the state of a live `owner` (an object behind a C handle), if any.
    pub(crate) fn get<T, R>(&self, owner: &T, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        self.get_at(std::ptr::from_ref(owner) as usize, f)
    }

    /// [`Table::get`] by the owner's address.
    pub(crate) fn get_at<R>(&self, key: usize, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        let mut m = lock(&self.0);
        let slot = m.as_mut()?.get_mut(&key)?;
        (slot.owner.strong_count() > 0).then(|| f(&mut slot.value))
    }

    /// Runs `f` on the state of `owner` (created by `init` when there is none).
    pub(crate) fn upsert<T: Any + Send + Sync, R>(
        &self, owner: &Arc<T>, init: impl FnOnce() -> V, f: impl FnOnce(&mut V) -> R,
    ) -> R {
        let key = Arc::as_ptr(owner) as usize;
        let mut m = lock(&self.0);
        let map = m.get_or_insert_with(HashMap::new);
        map.retain(|_, s| s.owner.strong_count() > 0);
        let weak: Weak<dyn Any + Send + Sync> = Arc::downgrade(owner) as _;
        let slot = map.entry(key).or_insert_with(|| Slot { owner: weak, value: init() });
        f(&mut slot.value)
    }

    /// Replaces the state of `owner` with `value`.
    pub(crate) fn set<T: Any + Send + Sync>(&self, owner: &Arc<T>, value: V) {
        let key = Arc::as_ptr(owner) as usize;
        let mut m = lock(&self.0);
        let map = m.get_or_insert_with(HashMap::new);
        map.retain(|_, s| s.owner.strong_count() > 0);
        let weak: Weak<dyn Any + Send + Sync> = Arc::downgrade(owner) as _;
        map.insert(key, Slot { owner: weak, value });
    }

    /// Live entries (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.0)
            .as_ref()
            .map_or(0, |m| m.values().filter(|s| s.owner.strong_count() > 0).count())
    }
}
