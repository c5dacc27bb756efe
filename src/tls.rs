//! The TLS set-up every outbound HTTP client shares.

use std::sync::Once;

/// Makes `ring` the process's TLS crypto provider, unless one is already installed.
///
/// `reqwest` is built without a provider of its own (the default one needs a C toolchain
/// with cmake); it uses whichever the process installed.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();

    ONCE.call_once(|| {
        // An error means another provider is already installed, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
