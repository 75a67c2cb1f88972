//! Limits and checks on the text people type, so a 10 MB title or an empty reason never reaches the log.

use super::Rejection;

/// A one-line label: titles, summaries, versions, test names.
pub const MAX_LINE: usize = 200;
/// Free text: impact, rationale, reasons, comments, notes.
pub const MAX_TEXT: usize = 4_000;
/// Release documents: changes, risks, rollback plan.
pub const MAX_DOC: usize = 20_000;
/// User names, role names, services, owners.
pub const MAX_NAME: usize = 64;
/// Test names: real parameterised and jest names run past 200 characters, and a name is never
/// cut (a cut name would match another test, or none).
pub const MAX_TEST_NAME: usize = 1_000;
/// The most tests one release may list, by hand and by import together.
pub const MAX_TESTS: usize = 10_000;

/// Trims `value` and checks it is present and within `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, Rejection> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Rejection::new(format!("{field} is empty: fill it in")));
    }
    within(field, v, max)
}

/// Trims `value` and checks it is within `max` characters; empty is allowed.
pub fn optional(field: &str, value: &str, max: usize) -> Result<String, Rejection> {
    within(field, value.trim(), max)
}

fn within(field: &str, v: &str, max: usize) -> Result<String, Rejection> {
    let n = v.chars().count();
    if n > max {
        return Err(Rejection::new(format!(
            "{field} is {n} characters long: the limit is {max}; shorten it"
        )));
    }
    // A NUL is never text a person meant, and PostgreSQL's text cannot hold it: refused in
    // both backends, so a store can always move between them.
    if v.contains('\0') {
        return Err(Rejection::new(format!(
            "{field} contains a NUL character: remove it"
        )));
    }
    if max <= MAX_LINE && v.contains(['\n', '\r']) {
        return Err(Rejection::new(format!("{field} must be a single line")));
    }
    Ok(v.to_string())
}

/// A user, role, service or owner name: letters, digits and `._@+-`, at most [`MAX_NAME`].
pub fn check_name(field: &str, value: &str) -> Result<String, Rejection> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Rejection::new(format!(
            "{field} is empty: give a {field} name"
        )));
    }
    if v.chars().count() > MAX_NAME {
        return Err(Rejection::new(format!(
            "{field} \"{}…\" is longer than {MAX_NAME} characters",
            crate::sanitize::line(&v.chars().take(MAX_NAME).collect::<String>())
        )));
    }
    // The portable set: a Cyrillic `а` in `аvery` would be another user who looks the same.
    if let Some(bad) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._@+-".contains(*c)))
    {
        return Err(Rejection::new(format!(
            "{field} \"{}\" contains {}: use ASCII letters, digits and . _ @ + - only",
            crate::sanitize::line(v),
            crate::sanitize::line(&format!("{bad:?}"))
        )));
    }
    Ok(v.to_string())
}

/// Checks a semantic version such as `2.4.1` or `2.4.1-hotfix.1`.
pub fn check_version(value: &str) -> Result<String, Rejection> {
    let v = value.trim().trim_start_matches('v');
    semver::Version::parse(v)
        .map(|_| v.to_string())
        .map_err(|e| {
            Rejection::new(format!(
                "version \"{}\" is not a semantic version ({e}): use MAJOR.MINOR.PATCH, e.g. 2.4.1",
                crate::sanitize::line(value)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_shapes() {
        assert_eq!(
            required("title", "  DB down ", MAX_LINE).unwrap(),
            "DB down"
        );
        assert!(
            required("title", "   ", MAX_LINE)
                .unwrap_err()
                .message
                .contains("title is empty")
        );
        let long = "x".repeat(MAX_LINE + 1);
        assert!(
            required("title", &long, MAX_LINE)
                .unwrap_err()
                .message
                .contains("limit is 200")
        );
        assert!(required("title", "a\nb", MAX_LINE).is_err());
        assert!(required("rationale", "a\nb", MAX_TEXT).is_ok());
        assert!(check_name("user", "alice.smith@corp").is_ok());
        assert!(check_name("user", "al ice").is_err());
        assert_eq!(check_version("v2.4.1").unwrap(), "2.4.1");
        assert!(
            check_version("2.4")
                .unwrap_err()
                .message
                .contains("MAJOR.MINOR.PATCH")
        );
    }
}
