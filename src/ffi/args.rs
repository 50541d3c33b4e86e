//! Arguments in and results out: the checks every entry point makes on what
//! C passes, and the few ways results are written back.
//!
//! Inputs: strings are NUL-terminated UTF-8 borrowed for the call; bytes are
//! pointer + length (NULL only with length 0). Outputs (see the module doc
//! of [`super`]): handles through `T **out`, library strings as
//! `macp_string` handles, and caller memory that always comes with its size:
//! a value struct the library fills, or a buffer with its length.

use std::ffi::{c_char, CStr, CString};

use crate::error::{Error, Result};

/// A required string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for the call.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, name: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::invalid_argument(format!("{name} is NULL")));
    }
    CStr::from_ptr(p)
        .to_str()
        .map_err(|_| Error::invalid_argument(format!("{name} is not valid UTF-8")))
}

/// A required, non-empty string argument.
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn arg_nonempty<'a>(p: *const c_char, name: &str) -> Result<&'a str> {
    let s = arg_str(p, name)?;
    if s.is_empty() {
        return Err(Error::invalid_argument(format!("{name} is empty")));
    }
    Ok(s)
}

/// An optional string argument: NULL is `None`.
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn arg_opt_str<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        arg_str(p, name).map(Some)
    }
}

/// A byte-buffer argument: NULL is allowed only with length 0.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes valid for the call.
pub(crate) unsafe fn arg_bytes<'a>(p: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if p.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(Error::invalid_argument(format!(
            "{name} is NULL but its length is {len}"
        )));
    }
    if len > isize::MAX as usize {
        return Err(Error::invalid_argument(format!(
            "{name} length is out of range"
        )));
    }
    Ok(std::slice::from_raw_parts(p, len))
}

/// An array argument of `len` strings (NULL allowed with `len` 0); each must
/// be non-NULL UTF-8.
///
/// # Safety
/// `p` is NULL or points to `len` pointers, each NULL or NUL-terminated.
pub(crate) unsafe fn arg_str_array<'a>(
    p: *const *const c_char,
    len: usize,
    name: &str,
) -> Result<Vec<&'a str>> {
    if p.is_null() {
        if len == 0 {
            return Ok(Vec::new());
        }
        return Err(Error::invalid_argument(format!(
            "{name} is NULL but its length is {len}"
        )));
    }
    if len > isize::MAX as usize / std::mem::size_of::<*const c_char>() {
        return Err(Error::invalid_argument(format!(
            "{name} length is out of range"
        )));
    }
    std::slice::from_raw_parts(p, len)
        .iter()
        .enumerate()
        .map(|(i, s)| arg_str(*s, &format!("{name}[{i}]")))
        .collect()
}

/// A required out-pointer argument.
pub(crate) fn arg_out<T>(p: *mut T, name: &str) -> Result<()> {
    if p.is_null() {
        Err(Error::invalid_argument(format!("{name} (output) is NULL")))
    } else {
        Ok(())
    }
}

/// Copy `bytes` out through the size-query convention: `*out_len` (required)
/// receives the size; with `buf` NULL and `buf_len` 0 nothing else is
/// written; otherwise `buf` must hold `buf_len >= size` bytes.
///
/// # Safety
/// `buf` is NULL or `buf_len` writable bytes; `out_len` is NULL or writable.
pub(crate) unsafe fn write_buf(
    bytes: &[u8],
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> Result<()> {
    arg_out(out_len, "out_len")?;
    *out_len = bytes.len();
    if buf.is_null() {
        return if buf_len == 0 {
            Ok(())
        } else {
            Err(Error::invalid_argument(format!(
                "buf is NULL but its length is {buf_len}"
            )))
        };
    }
    if buf_len < bytes.len() {
        return Err(Error::invalid_argument(format!(
            "buf is too small: {} bytes needed",
            bytes.len()
        )));
    }
    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
    Ok(())
}

/// A C string for a Rust string; interior NULs (which a C string cannot
/// carry) become U+FFFD.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s)
        .unwrap_or_else(|_| CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default())
}

/// An optional string argument, `""` when NULL.
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn arg_or_empty<'a>(p: *const c_char, name: &str) -> Result<&'a str> {
    Ok(arg_opt_str(p, name)?.unwrap_or(""))
}

/// Copy `s` and a NUL into a fixed-size text field of a caller-owned value
/// struct, cut at a UTF-8 character boundary when longer than `N - 1` bytes.
pub(crate) fn fill_fixed<const N: usize>(dst: &mut [c_char; N], s: &str) {
    let mut n = s.len().min(N - 1);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    for (d, b) in dst.iter_mut().zip(&s.as_bytes()[..n]) {
        *d = *b as c_char;
    }
    dst[n] = 0;
}

/// Check a caller text buffer (`buf`, `buf_len` bytes) and make it `""` until
/// a result is written with [`write_text`].
///
/// # Safety
/// `buf` is NULL or points to `buf_len` writable bytes.
pub(crate) unsafe fn clear_text(buf: *mut c_char, buf_len: usize, name: &str) -> Result<()> {
    arg_out(buf, name)?;
    if buf_len == 0 {
        return Err(Error::invalid_argument(format!("{name}_len is 0")));
    }
    *buf = 0;
    Ok(())
}

/// Write `s` and a NUL into a caller text buffer of `buf_len` bytes; a
/// buffer too small is `MACP_STATUS_INVALID_ARGUMENT` naming the size needed
/// (nothing is cut).
///
/// # Safety
/// `buf` points to `buf_len` writable bytes (checked by [`clear_text`]).
pub(crate) unsafe fn write_text(
    buf: *mut c_char,
    buf_len: usize,
    s: &str,
    name: &str,
) -> Result<()> {
    if buf_len < s.len() + 1 {
        return Err(Error::invalid_argument(format!(
            "{name}_len is {buf_len}; the result needs {} bytes",
            s.len() + 1
        )));
    }
    std::ptr::copy_nonoverlapping(s.as_ptr(), buf as *mut u8, s.len());
    *buf.add(s.len()) = 0;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_arguments_are_checked() {
        let bad = [0xffu8, 0xfe, 0];
        let r = unsafe { arg_str(bad.as_ptr() as *const c_char, "x") };
        assert_eq!(r.unwrap_err().status, crate::Status::InvalidArgument);
        let r = unsafe { arg_nonempty(c"".as_ptr(), "x") };
        assert!(r.is_err());
        let r = unsafe { arg_opt_str(std::ptr::null(), "x") };
        assert_eq!(r.unwrap(), None);
        let r = unsafe { arg_bytes(std::ptr::null(), 3, "x") };
        assert!(r.is_err());
        assert_eq!(c_string("a\0b").to_str().unwrap(), "a\u{FFFD}b");
    }

    #[test]
    fn fixed_fields_cut_at_a_character_boundary() {
        let mut f = [1 as c_char; 4];
        fill_fixed(&mut f, "aé€");
        let s = unsafe { CStr::from_ptr(f.as_ptr()) };
        assert_eq!(s.to_str().unwrap(), "aé");
    }

    #[test]
    fn text_buffers_are_never_cut() {
        let mut b = [7 as c_char; 4];
        unsafe {
            clear_text(b.as_mut_ptr(), b.len(), "out").unwrap();
            assert!(write_text(b.as_mut_ptr(), b.len(), "abcd", "out").is_err());
            assert_eq!(b[0], 0);
            write_text(b.as_mut_ptr(), b.len(), "abc", "out").unwrap();
            assert_eq!(CStr::from_ptr(b.as_ptr()).to_str().unwrap(), "abc");
            assert!(clear_text(b.as_mut_ptr(), 0, "out").is_err());
        }
    }
}
