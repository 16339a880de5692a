//! Identifiers that are parsed once at the edge; an invalid one cannot exist past it.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error(
        "merchant id must match ^[a-z0-9][a-z0-9-]{{1,62}}$ (2 to 63 characters: lowercase letters, digits and '-', not starting with '-')"
    )]
    InvalidMerchantId,
    #[error(
        "document name must match ^[a-z0-9][a-z0-9_-]{{0,63}}$ (1 to 64 characters: lowercase letters, digits, '_' and '-', not starting with '_' or '-')"
    )]
    InvalidDocumentName,
}

fn is_slug(s: &str, min: usize, max: usize, allow_underscore: bool) -> bool {
    let bytes = s.as_bytes();
    (min..=max).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase() | bytes[0].is_ascii_digit()
        && bytes.iter().all(|&b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || b == b'-'
                || (allow_underscore && b == b'_')
        })
}

/// A merchant's id: a slug chosen by the platform admin (`^[a-z0-9][a-z0-9-]{1,62}$`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MerchantId(String);

impl MerchantId {
    /// What [`MerchantId::parse`] accepts, as an ECMA-262 regular expression (for the API
    /// document; a test keeps the two in step).
    pub const PATTERN: &'static str = "^[a-z0-9][a-z0-9-]{1,62}$";

    pub fn parse(s: &str) -> Result<Self, IdError> {
        if is_slug(s, 2, 63, false) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::InvalidMerchantId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MerchantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of a metadata document within its scope and kind (`^[a-z0-9][a-z0-9_-]{0,63}$`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentName(String);

impl DocumentName {
    /// What [`DocumentName::parse`] accepts, as an ECMA-262 regular expression (for the API
    /// document; a test keeps the two in step).
    pub const PATTERN: &'static str = "^[a-z0-9][a-z0-9_-]{0,63}$";

    pub fn parse(s: &str) -> Result<Self, IdError> {
        if is_slug(s, 1, 64, true) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::InvalidDocumentName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DocumentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merchant_ids() {
        for ok in ["haidilao", "xi", "a-1", "0abc", &"a".repeat(63)] {
            assert!(MerchantId::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "-ab",
            "Haidilao",
            "hai_dilao",
            "hai dilao",
            "é-x",
            &"a".repeat(64),
        ] {
            assert_eq!(
                MerchantId::parse(bad),
                Err(IdError::InvalidMerchantId),
                "{bad}"
            );
        }
    }

    #[test]
    fn document_names() {
        for ok in [
            "default",
            "a",
            "wechat_pay",
            "alipay-discount",
            &"a".repeat(64),
        ] {
            assert!(DocumentName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "_x", "-x", "Default", "a/b", "..", &"a".repeat(65)] {
            assert_eq!(
                DocumentName::parse(bad),
                Err(IdError::InvalidDocumentName),
                "{bad}"
            );
        }
    }

    proptest::proptest! {
        /// The documented patterns accept exactly what `parse` accepts.
        #[test]
        fn document_name_pattern_is_parse(name in "[a-z0-9_A-Z./ -]{0,70}|[a-z0-9][a-z0-9_-]{0,66}") {
            let pattern = regex::Regex::new(DocumentName::PATTERN).expect("the pattern compiles");
            proptest::prop_assert_eq!(pattern.is_match(&name), DocumentName::parse(&name).is_ok(), "{}", name);
        }

        #[test]
        fn merchant_id_pattern_is_parse(id in "[a-z0-9_A-Z./ -]{0,70}|[a-z0-9][a-z0-9-]{0,65}") {
            let pattern = regex::Regex::new(MerchantId::PATTERN).expect("the pattern compiles");
            proptest::prop_assert_eq!(pattern.is_match(&id), MerchantId::parse(&id).is_ok(), "{}", id);
        }
    }
}
