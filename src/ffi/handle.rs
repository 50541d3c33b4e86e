//! How C holds libmacp's objects: the one handle rule.
//!
//! Every object the library hands to C (clients, options, sessions,
//! watchers, projections, errors, and every library-owned result such as a
//! string or a session list) is an opaque handle: a never-reused number
//! disguised as a pointer, looked up in a table of live handles of its type
//! on every call. A NULL, freed, foreign or wrong-type handle is found
//! missing instead of being dereferenced, so it yields
//! `MACP_STATUS_INVALID_HANDLE` (or is ignored by a free), never a crash,
//! and a stale free can never release another object that happens to reuse
//! an address.
//!
//! Each C type declares once what it wraps, with [`handle_type!`]; the
//! generic [`get`], [`new`], [`write_new`] and [`free`] do the rest. Data a
//! handle lends out (strings, arrays, views) lives in its target and stays
//! valid while the handle is live.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use crate::error::{Error, Result, Status};

/// Handles count up in steps of 16 from here: never 0, never reused, and
/// never a small integer a caller might pass by mistake.
static NEXT_HANDLE: AtomicUsize = AtomicUsize::new(0x10_0000);

/// The live handles of one C type.
pub(crate) struct Table<T> {
    map: LazyLock<RwLock<HashMap<usize, Arc<T>>>>,
}

impl<T> Table<T> {
    pub(crate) const fn new() -> Self {
        Table {
            map: LazyLock::new(|| RwLock::new(HashMap::new())),
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// An opaque C type and what a handle of it holds. Implemented with
/// [`handle_type!`].
pub(crate) trait Handle: Sized + 'static {
    /// What the library keeps behind one handle.
    type Target: Send + Sync + 'static;
    /// The C name, for messages (`"macp_client"`).
    const NAME: &'static str;
    /// The table of live handles of this type.
    fn table() -> &'static Table<Self::Target>;
}

/// Declare how C holds `$c`: as a checked handle of a `$target`.
macro_rules! handle_type {
    ($c:ident => $target:ty) => {
        impl $crate::ffi::handle::Handle for $c {
            type Target = $target;
            const NAME: &'static str = stringify!($c);
            fn table() -> &'static $crate::ffi::handle::Table<$target> {
                static TABLE: $crate::ffi::handle::Table<$target> =
                    $crate::ffi::handle::Table::new();
                &TABLE
            }
        }
    };
}
pub(crate) use handle_type;

/// The object behind `h`, or `MACP_STATUS_INVALID_HANDLE`.
pub(crate) fn get<H: Handle>(h: *const H) -> Result<Arc<H::Target>> {
    if h.is_null() {
        return Err(Error::new(
            Status::InvalidHandle,
            format!("{} handle is NULL", H::NAME),
        ));
    }
    H::table()
        .map
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&(h as usize))
        .cloned()
        .ok_or_else(|| {
            Error::new(
                Status::InvalidHandle,
                format!(
                    "not a live {} handle (already freed, or another type)",
                    H::NAME
                ),
            )
        })
}

/// A new handle for `value`.
pub(crate) fn new<H: Handle>(value: H::Target) -> *mut H {
    let h = NEXT_HANDLE.fetch_add(16, Ordering::Relaxed);
    H::table()
        .map
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(h, Arc::new(value));
    h as *mut H
}

/// Write a new handle for `value` to `*out`.
///
/// # Safety
/// `out` is writable (callers check it with [`super::args::arg_out`] first).
pub(crate) unsafe fn write_new<H: Handle>(out: *mut *mut H, value: H::Target) {
    *out = new(value);
}

/// End `h`: the table lets go of its object (which lives on while a call
/// that already holds it runs). `None` for NULL, freed or foreign handles.
pub(crate) fn free<H: Handle>(h: *const H) -> Option<Arc<H::Target>> {
    if h.is_null() {
        return None;
    }
    H::table()
        .map
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&(h as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct test_handle {
        _private: [u8; 0],
    }
    handle_type!(test_handle => u32);

    struct other_handle {
        _private: [u8; 0],
    }
    handle_type!(other_handle => u32);

    #[test]
    fn handles_are_checked_not_dereferenced() {
        let h: *mut test_handle = new(7);
        assert_eq!(*get(h).unwrap(), 7);
        // The same number is no handle of another type.
        let foreign = h as *const other_handle;
        assert_eq!(get(foreign).unwrap_err().status, Status::InvalidHandle);
        assert!(free(h).is_some());
        assert_eq!(get(h).unwrap_err().status, Status::InvalidHandle);
        assert_eq!(
            get(0x1234 as *const test_handle).unwrap_err().status,
            Status::InvalidHandle
        );
        assert_eq!(
            get(std::ptr::null::<test_handle>()).unwrap_err().status,
            Status::InvalidHandle
        );
        assert!(free(h).is_none());
        assert_eq!(test_handle::table().len(), 0);
    }

    #[test]
    fn a_stale_free_never_releases_a_newer_object() {
        let a: *mut test_handle = new(1);
        assert!(free(a).is_some());
        let b: *mut test_handle = new(2);
        assert_ne!(a, b);
        assert!(free(a).is_none());
        assert_eq!(*get(b).unwrap(), 2);
        assert!(free(b).is_some());
    }
}
