//! Helpers shared by the fuzz targets: every target calls the library's C
//! entry points (what C, Go and Swift callers reach), frees what they
//! return, and checks the promises each one makes about its outputs.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{CStr, CString};

use macp::ffi::{
    macp_error, macp_error_free, macp_string, macp_string_free, macp_string_len, macp_string_ptr,
};
use macp::Status;

/// Split `data` at its first NUL: (text before, bytes after). `None` when
/// there is no NUL.
pub fn split_nul(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = data.iter().position(|&b| b == 0)?;
    Some((&data[..i], &data[i + 1..]))
}

/// `bytes` as a C string (they hold no NUL by construction of the callers).
pub fn cstring(bytes: &[u8]) -> CString {
    CString::new(
        bytes
            .iter()
            .copied()
            .filter(|&b| b != 0)
            .collect::<Vec<u8>>(),
    )
    .expect("NUL bytes were removed")
}

/// Call a C entry point with an error out-parameter; check that a failure
/// comes with a readable error and a success with none, then free it.
pub fn call(f: impl FnOnce(*mut *mut macp_error) -> Status) -> Status {
    let mut err: *mut macp_error = std::ptr::null_mut();
    let st = f(&mut err);
    assert_ne!(st, Status::Panic, "a C entry point panicked");
    if st == Status::Ok {
        assert!(err.is_null(), "success with an error object");
    } else {
        assert!(!err.is_null(), "failure {st:?} without an error object");
        let msg = macp::ffi::macp_error_message(err);
        assert!(!msg.is_null(), "an error without a message");
        // SAFETY: a message is a NUL-terminated string owned by the error.
        let msg = unsafe { CStr::from_ptr(msg) };
        assert!(!msg.to_bytes().is_empty(), "an empty error message");
        macp_error_free(err);
    }
    st
}

/// Take a library string: valid UTF-8, its length as reported, copied,
/// then freed.
pub fn take_string(p: *mut macp_string) -> String {
    assert!(!p.is_null(), "success without a string");
    // SAFETY: a live macp_string's text is NUL-terminated and owned by it.
    let s = unsafe { CStr::from_ptr(macp_string_ptr(p)) }
        .to_str()
        .expect("the library returned a string that is not UTF-8")
        .to_string();
    assert_eq!(
        macp_string_len(p),
        s.len(),
        "macp_string_len disagrees with the text"
    );
    macp_string_free(p);
    s
}

/// `macp_payload_to_json`: `Ok(json)` or the failure status (`out` NULL).
pub fn to_json(type_name: &CStr, bytes: &[u8]) -> Result<String, Status> {
    let mut out: *mut macp_string = std::ptr::dangling_mut();
    let st = call(|e| unsafe {
        macp::ffi::macp_payload_to_json(
            type_name.as_ptr(),
            bytes.as_ptr(),
            bytes.len(),
            &mut out,
            e,
        )
    });
    if st == Status::Ok {
        Ok(take_string(out))
    } else {
        assert!(out.is_null(), "the output is not NULL after a failure");
        Err(st)
    }
}

/// `macp_payload_from_json` with its size query, then the encoding.
pub fn from_json(type_name: &CStr, json: &CStr) -> Result<Vec<u8>, Status> {
    use macp::ffi::macp_payload_from_json;
    let mut need = usize::MAX;
    let st = call(|e| unsafe {
        macp_payload_from_json(
            type_name.as_ptr(),
            json.as_ptr(),
            std::ptr::null_mut(),
            0,
            &mut need,
            e,
        )
    });
    if st != Status::Ok {
        return Err(st);
    }
    let mut buf = vec![0u8; need];
    let mut written = 0;
    let st = call(|e| unsafe {
        macp_payload_from_json(
            type_name.as_ptr(),
            json.as_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut written,
            e,
        )
    });
    assert_eq!(
        st,
        Status::Ok,
        "the size query succeeded, the encoding did not"
    );
    assert_eq!(written, need);
    Ok(buf)
}
