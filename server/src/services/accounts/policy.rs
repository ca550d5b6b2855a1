//! What a valid email, display name and password are (NIST SP 800-63B / OWASP ASVS):
//! passwords of 8..=128 characters, no composition rules, the most common ones refused.

use std::collections::HashSet;
use std::sync::OnceLock;

use app::error::AppError;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted, in characters.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Longest display name accepted, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 64;
/// Longest email accepted (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

fn common_passwords() -> &'static HashSet<String> {
    static LIST: OnceLock<HashSet<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("common-passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(str::to_lowercase)
            .collect()
    })
}

/// Trims and lower-cases an email, and checks its shape (one `@`, text on both sides, a dot
/// in the domain, no spaces).
pub fn normalize_email(raw: &str) -> Result<String, AppError> {
    let email = raw.trim().to_lowercase();
    let invalid = |message: &str| Err(AppError::invalid("email", message));
    if email.is_empty() {
        return invalid("Please enter your email address.");
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return invalid("This email address is too long.");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return invalid("This does not look like an email address (it has no @).");
    };
    if local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return invalid("This does not look like an email address.");
    }
    Ok(email)
}

/// Trims a display name and checks it is present, printable and not too long.
pub fn normalize_display_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim().to_string();
    if name.is_empty() {
        return Err(AppError::invalid(
            "display_name",
            "Please choose a display name.",
        ));
    }
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(AppError::invalid(
            "display_name",
            format!("Display names are at most {MAX_DISPLAY_NAME_CHARS} characters."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "display_name",
            "Display names cannot contain control characters.",
        ));
    }
    Ok(name)
}

/// Checks a new password: length in characters and the common-password list. Nothing else.
pub fn check_new_password(password: &str, email: &str) -> Result<(), AppError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "password",
            format!("Passwords need at least {MIN_PASSWORD_CHARS} characters."),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "password",
            format!("Passwords can have at most {MAX_PASSWORD_CHARS} characters."),
        ));
    }
    let lowered = password.trim().to_lowercase();
    if common_passwords().contains(&lowered) {
        return Err(AppError::invalid(
            "password",
            "This password is one of the most common passwords and easy to guess. Please choose another.",
        ));
    }
    if lowered == email || email.split('@').next() == Some(lowered.as_str()) {
        return Err(AppError::invalid(
            "password",
            "Your password cannot be your email address.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: AppError) -> String {
        match error {
            AppError::Invalid { field, .. } => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn password_length_bounds_in_characters() {
        assert_eq!(
            field_of(check_new_password("short12", "a@b.co").unwrap_err()),
            "password"
        );
        assert!(check_new_password("eight ch", "a@b.co").is_ok());
        assert!(
            check_new_password(&"é".repeat(128), "a@b.co").is_ok(),
            "128 two-byte chars"
        );
        assert!(check_new_password(&"x".repeat(129), "a@b.co").is_err());
    }

    #[test]
    fn common_passwords_refused_whatever_the_case() {
        for pw in ["password", "Password1", "QWERTYUIOP", " iloveyou1 "] {
            let err = check_new_password(pw, "a@b.co").unwrap_err();
            assert!(err.to_string().contains("most common"), "{pw}: {err}");
        }
        assert!(check_new_password("correct horse battery staple", "a@b.co").is_ok());
        assert!(common_passwords().len() > 150);
        assert!(common_passwords()
            .iter()
            .all(|p| p.chars().count() >= MIN_PASSWORD_CHARS));
    }

    #[test]
    fn no_composition_rules() {
        assert!(check_new_password("alllowercaseletters", "a@b.co").is_ok());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "a@b@c.com",
        ] {
            assert_eq!(
                field_of(normalize_email(bad).unwrap_err()),
                "email",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn display_names_are_checked() {
        assert_eq!(normalize_display_name("  Ada ").unwrap(), "Ada");
        assert!(normalize_display_name("   ").is_err());
        assert!(normalize_display_name(&"n".repeat(65)).is_err());
    }
}
