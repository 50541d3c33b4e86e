//! A panic caught inside the library, through the unwinder and this
//! library's own rust_eh_personality.

use std::panic;

/// Panics `times` times, each caught; returns how many were caught.
#[no_mangle]
pub extern "C" fn other_catch_panics(times: i32) -> i32 {
    panic::set_hook(Box::new(|_| {}));
    let caught = (0..times)
        .filter(|i| panic::catch_unwind(|| panic!("panic {i}")).is_err())
        .count();
    let _ = panic::take_hook();
    caught as i32
}
