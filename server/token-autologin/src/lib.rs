//! A PKCS#11 module that stands in for an archivist's card middleware in the browser tests
//! (`end2end/card-middleware/`, README: "Testing with a card middleware stand-in").
//!
//! A card's key is protected by PIN1, and the card middleware asks for it in a dialog. Headless
//! Chromium has no PIN dialog: a token that needs a login makes NSS wait for one until a timeout.
//! This module forwards every call to a real module (SoftHSM, where the key is stored
//! PIN-protected, `CKA_PRIVATE`), with four changes:
//!
//! - each session it opens is logged in with the PIN from `TOKEN_AUTOLOGIN_PIN` (the PIN the
//!   archivist would type once per card insertion);
//! - the token reports that it needs no login, so NSS never asks for a PIN;
//! - `C_Login` as the user and `C_Logout` succeed without touching the token, so that NSS cannot
//!   log the card out under the browser;
//! - every signature made (`C_Sign`, `C_SignFinal`) appends one line to the file named by
//!   `TOKEN_AUTOLOGIN_SIGN_LOG`, if set, so that a test can prove the TLS signature was made in
//!   the token and not by a key anywhere else.
//!
//! The real module is `TOKEN_AUTOLOGIN_MODULE` (default: Debian's SoftHSM). Failures are written
//! to standard error, since NSS only sees a return value.
//!
//! Test equipment only: it is never built into the product or shipped.

use std::{ffi::c_void, io::Write as _, path::PathBuf, sync::OnceLock};

use cryptoki_sys::{
    CK_BYTE, CK_FLAGS, CK_FUNCTION_LIST, CK_NOTIFY, CK_RV, CK_SESSION_HANDLE, CK_SLOT_ID,
    CK_TOKEN_INFO, CK_ULONG, CK_USER_TYPE, CK_UTF8CHAR, CKF_LOGIN_REQUIRED, CKR_ARGUMENTS_BAD,
    CKR_DEVICE_ERROR, CKR_FUNCTION_NOT_SUPPORTED, CKR_GENERAL_ERROR, CKR_OK,
    CKR_USER_ALREADY_LOGGED_IN, CKU_USER,
};

const DEFAULT_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// The real module, opened once for the life of the process.
struct Real {
    /// Kept open: the function list points into it.
    _library: libloading::Library,
    functions: CK_FUNCTION_LIST,
    pin: Option<Vec<u8>>,
    sign_log: Option<PathBuf>,
}

static REAL: OnceLock<Result<Real, String>> = OnceLock::new();
/// The list handed to NSS: the real one with this module's functions in place.
static OURS: OnceLock<CK_FUNCTION_LIST> = OnceLock::new();

fn open_real() -> Result<Real, String> {
    let path = std::env::var_os("TOKEN_AUTOLOGIN_MODULE")
        .map_or_else(|| PathBuf::from(DEFAULT_MODULE), PathBuf::from);
    // SAFETY: loading a PKCS#11 module runs its initialisers; the path is the operator's
    // choice of module, which is what any PKCS#11 consumer does.
    let library = unsafe { libloading::Library::new(&path) }
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    // SAFETY: `C_GetFunctionList` has this signature in every PKCS#11 module (v2.40 §5.2).
    let get: libloading::Symbol<'_, unsafe extern "C" fn(*mut *mut CK_FUNCTION_LIST) -> CK_RV> =
        unsafe { library.get(b"C_GetFunctionList\0") }
            .map_err(|e| format!("{} has no C_GetFunctionList: {e}", path.display()))?;
    let mut list: *mut CK_FUNCTION_LIST = std::ptr::null_mut();
    // SAFETY: `list` is a valid place for the module to write its (static) list pointer.
    let rv = unsafe { get(&mut list) };
    if rv != CKR_OK || list.is_null() {
        return Err(format!(
            "{}: C_GetFunctionList returned {rv:#x}",
            path.display()
        ));
    }
    // SAFETY: the module returned a non-null pointer to its function list, which lives as long
    // as the library stays loaded; it is copied, so later changes by the module cannot matter.
    let functions = unsafe { *list };
    Ok(Real {
        _library: library,
        functions,
        pin: std::env::var_os("TOKEN_AUTOLOGIN_PIN").map(|pin| pin.into_encoded_bytes()),
        sign_log: std::env::var_os("TOKEN_AUTOLOGIN_SIGN_LOG").map(PathBuf::from),
    })
}

fn real() -> Option<&'static Real> {
    match REAL.get_or_init(open_real) {
        Ok(real) => Some(real),
        Err(message) => {
            eprintln!("token-autologin: {message}");
            None
        }
    }
}

/// The module's one exported entry point: NSS finds every other function through the list.
///
/// # Safety
/// `list` must be null or point to writable memory for one pointer, as PKCS#11 requires.
#[allow(non_snake_case)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetFunctionList(list: *mut *mut CK_FUNCTION_LIST) -> CK_RV {
    if list.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    let Some(real) = real() else {
        return CKR_GENERAL_ERROR;
    };
    let ours = OURS.get_or_init(|| CK_FUNCTION_LIST {
        C_GetFunctionList: Some(C_GetFunctionList),
        C_GetTokenInfo: Some(get_token_info),
        C_OpenSession: Some(open_session),
        C_Login: Some(login),
        C_Logout: Some(logout),
        C_Sign: Some(sign),
        C_SignFinal: Some(sign_final),
        ..real.functions
    });
    // SAFETY: checked non-null above; PKCS#11 callers never write through the returned list,
    // so handing out a pointer to the immutable static is sound.
    unsafe { *list = std::ptr::from_ref(ours).cast_mut() };
    CKR_OK
}

/// The real module, once open: our functions are reachable only through our list, which is
/// handed out only after the real module opened, so `None` is a caller breaking the protocol.
fn loaded() -> Option<&'static Real> {
    match REAL.get() {
        Some(Ok(real)) => Some(real),
        _ => None,
    }
}

unsafe extern "C" fn get_token_info(slot: CK_SLOT_ID, info: *mut CK_TOKEN_INFO) -> CK_RV {
    let Some(real_get) = loaded().and_then(|real| real.functions.C_GetTokenInfo) else {
        return CKR_FUNCTION_NOT_SUPPORTED;
    };
    // SAFETY: the caller's arguments go unchanged to the function they were meant for.
    let rv = unsafe { real_get(slot, info) };
    if rv == CKR_OK && !info.is_null() {
        // SAFETY: the real module filled `*info` and returned CKR_OK.
        unsafe { (*info).flags &= !CKF_LOGIN_REQUIRED };
    }
    rv
}

unsafe extern "C" fn open_session(
    slot: CK_SLOT_ID,
    flags: CK_FLAGS,
    application: *mut c_void,
    notify: CK_NOTIFY,
    session: *mut CK_SESSION_HANDLE,
) -> CK_RV {
    let Some(real) = loaded() else {
        return CKR_FUNCTION_NOT_SUPPORTED;
    };
    let (Some(real_open), Some(real_login), Some(real_close)) = (
        real.functions.C_OpenSession,
        real.functions.C_Login,
        real.functions.C_CloseSession,
    ) else {
        return CKR_FUNCTION_NOT_SUPPORTED;
    };
    // SAFETY: the caller's arguments go unchanged to the function they were meant for.
    let rv = unsafe { real_open(slot, flags, application, notify, session) };
    if rv != CKR_OK || session.is_null() {
        return rv;
    }
    let Some(pin) = &real.pin else {
        return CKR_OK;
    };
    // SAFETY: the session was just opened and written to `*session`; the PIN buffer lives in
    // the static `REAL` and the module only reads `pin.len()` bytes of it.
    let login = unsafe {
        real_login(
            *session,
            CKU_USER,
            pin.as_ptr().cast::<CK_UTF8CHAR>().cast_mut(),
            pin.len() as CK_ULONG,
        )
    };
    if login == CKR_OK || login == CKR_USER_ALREADY_LOGGED_IN {
        return CKR_OK;
    }
    // A wrong PIN: the card cannot be used, and the session is not left half open.
    eprintln!("token-autologin: the token refused the PIN (C_Login returned {login:#x})");
    // SAFETY: the session was opened above and is closed once.
    unsafe { real_close(*session) };
    CKR_DEVICE_ERROR
}

/// Every session is logged in already; a second login as the user is not an error here, since
/// NSS only sees a token that needs none.
unsafe extern "C" fn login(
    session: CK_SESSION_HANDLE,
    user: CK_USER_TYPE,
    pin: *mut CK_UTF8CHAR,
    length: CK_ULONG,
) -> CK_RV {
    if user == CKU_USER {
        return CKR_OK;
    }
    let Some(real_login) = loaded().and_then(|real| real.functions.C_Login) else {
        return CKR_FUNCTION_NOT_SUPPORTED;
    };
    // SAFETY: the caller's arguments go unchanged to the function they were meant for.
    unsafe { real_login(session, user, pin, length) }
}

/// Logging out would hide the key from every other session until the next one opens: a card's
/// middleware keeps the card logged in while it is in the reader, and so does this one.
unsafe extern "C" fn logout(_session: CK_SESSION_HANDLE) -> CK_RV {
    CKR_OK
}

unsafe extern "C" fn sign(
    session: CK_SESSION_HANDLE,
    data: *mut CK_BYTE,
    data_length: CK_ULONG,
    signature: *mut CK_BYTE,
    signature_length: *mut CK_ULONG,
) -> CK_RV {
    let Some(real_sign) = loaded().and_then(|real| real.functions.C_Sign) else {
        return CKR_FUNCTION_NOT_SUPPORTED;
    };
    // SAFETY: the caller's arguments go unchanged to the function they were meant for.
    let rv = unsafe { real_sign(session, data, data_length, signature, signature_length) };
    note_signature(rv, signature);
    rv
}

unsafe extern "C" fn sign_final(
    session: CK_SESSION_HANDLE,
    signature: *mut CK_BYTE,
    signature_length: *mut CK_ULONG,
) -> CK_RV {
    let Some(real_final) = loaded().and_then(|real| real.functions.C_SignFinal) else {
        return CKR_FUNCTION_NOT_SUPPORTED;
    };
    // SAFETY: the caller's arguments go unchanged to the function they were meant for.
    let rv = unsafe { real_final(session, signature, signature_length) };
    note_signature(rv, signature);
    rv
}

/// One line in the signature log for a signature made (a null buffer only asks for the length).
fn note_signature(rv: CK_RV, signature: *const CK_BYTE) {
    let Some(path) = loaded().and_then(|real| real.sign_log.as_ref()) else {
        return;
    };
    if rv != CKR_OK || signature.is_null() {
        return;
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(b"signed in the token\n"));
    if let Err(e) = written {
        eprintln!("token-autologin: cannot write {}: {e}", path.display());
    }
}
