//! TLS for team mode, with libpq's `sslmode` meanings (the `postgres` crate knows only disable,
//! prefer and require, and refuses `verify-full`): rustls does the work.
//!
//! | sslmode | encrypted | certificate checked |
//! |---|---|---|
//! | `disable` | never | – |
//! | `allow`, `prefer` (default) | when the server offers it | no |
//! | `require` | always, or no connection | against `sslrootcert` if one is given (as libpq) |
//! | `verify-ca` | always | chain to `sslrootcert` |
//! | `verify-full` | always | chain to `sslrootcert`, and the host name |

use super::StoreError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    pub fn parse(word: &str) -> Option<Mode> {
        Some(match word {
            "disable" => Mode::Disable,
            "allow" | "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            _ => return None,
        })
    }

    /// What the `postgres` crate is told: whether TLS may be skipped.
    pub fn crate_mode(self) -> postgres::config::SslMode {
        match self {
            Mode::Disable => postgres::config::SslMode::Disable,
            Mode::Prefer => postgres::config::SslMode::Prefer,
            _ => postgres::config::SslMode::Require,
        }
    }
}

/// Takes `sslmode` and `sslrootcert` out of a URL's query or a `key=value` spec, which the
/// crate would refuse or ignore, and returns the rest with what was taken.
pub fn split_spec(spec: &str) -> (String, Option<String>, Option<String>) {
    let (mut mode, mut root) = (None, None);
    let mut take = |k: &str, v: &str| match k {
        "sslmode" => {
            mode = Some(v.to_string());
            true
        }
        "sslrootcert" => {
            root = Some(v.to_string());
            true
        }
        _ => false,
    };
    if let Some((base, query)) = spec.split_once('?').filter(|_| spec.contains("://")) {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|kv| !kv.split_once('=').is_some_and(|(k, v)| take(k, v)))
            .collect();
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return (rest, mode, root);
    }
    if spec.contains("://") {
        return (spec.to_string(), None, None);
    }
    let kept: Vec<&str> = spec
        .split_whitespace()
        .filter(|kv| !kv.split_once('=').is_some_and(|(k, v)| take(k, v)))
        .collect();
    (kept.join(" "), mode, root)
}

/// The rustls configuration for `mode`, with the roots from `root` (a PEM file).
pub fn client_config(
    mode: Mode,
    root: Option<&PathBuf>,
) -> Result<rustls::ClientConfig, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let bad = |why: String| StoreError::Setting(format!("TLS for the database store: {why}"));
    let roots = match root {
        Some(path) => {
            let mut store = RootCertStore::empty();
            let pem = std::fs::read(path)
                .map_err(|e| bad(format!("cannot read sslrootcert {}: {e}", path.display())))?;
            for cert in rustls_pki_types::pem::PemObject::pem_slice_iter(&pem) {
                let cert: CertificateDer =
                    cert.map_err(|e| bad(format!("{}: {e}", path.display())))?;
                store
                    .add(cert)
                    .map_err(|e| bad(format!("{}: {e}", path.display())))?;
            }
            if store.is_empty() {
                return Err(bad(format!("{} holds no certificate", path.display())));
            }
            Some(Arc::new(store))
        }
        None if matches!(mode, Mode::VerifyCa | Mode::VerifyFull) => {
            return Err(bad(
                "sslmode verify-ca and verify-full need the CA: give sslrootcert=FILE (or PGSSLROOTCERT, or ~/.postgresql/root.crt)".into(),
            ));
        }
        None => None,
    };
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?;
    let algorithms = provider.signature_verification_algorithms;
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, roots) {
        (Mode::VerifyFull, Some(roots)) => {
            rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| bad(e.to_string()))?
        }
        // libpq's require with a root certificate checks the chain, like verify-ca.
        (Mode::VerifyCa | Mode::Require, Some(roots)) => Arc::new(Lenient {
            chain: Some(
                rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
                    .build()
                    .map_err(|e| bad(e.to_string()))?,
            ),
            algorithms,
        }),
        _ => Arc::new(Lenient {
            chain: None,
            algorithms,
        }),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The certificate check for `prefer`, `require` and `verify-ca`: none without a root
/// certificate (encryption only, as libpq's `prefer`), else the chain to the root, with the
/// host name not compared (libpq's `verify-ca`; `verify-full` uses rustls's own verifier).
#[derive(Debug)]
struct Lenient {
    chain: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end, intermediates, name, ocsp, now) {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_settings_are_taken_out_of_the_spec() {
        assert_eq!(
            split_spec(
                "postgresql://u@h/db?sslmode=verify-full&sslrootcert=/ca.pem&application_name=x"
            ),
            (
                "postgresql://u@h/db?application_name=x".to_string(),
                Some("verify-full".to_string()),
                Some("/ca.pem".to_string())
            )
        );
        assert_eq!(
            split_spec("host=h sslmode=require dbname=d"),
            (
                "host=h dbname=d".to_string(),
                Some("require".to_string()),
                None
            )
        );
        assert_eq!(split_spec("postgresql://h/db").1, None);
    }
}
