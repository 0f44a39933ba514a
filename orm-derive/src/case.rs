//! Name conversion for default table, enum type and label names.

/// `BlogPost` -> `blog_post`, `InReview` -> `in_review`, `HTTPServer` -> `http_server`,
/// `UserV2` -> `user_v2`. An underscore goes before an upper-case letter that follows a lower-case
/// letter or digit, or that starts a word after an acronym.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p));
            let next = chars.get(i + 1);
            let after_lower = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit());
            let ends_acronym =
                prev.is_some_and(|p| p.is_uppercase()) && next.is_some_and(|n| n.is_lowercase());
            if (after_lower || ends_acronym) && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn converts() {
        assert_eq!(snake_case("BlogPost"), "blog_post");
        assert_eq!(snake_case("InReview"), "in_review");
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("UserV2"), "user_v2");
        assert_eq!(snake_case("Already_Snake"), "already_snake");
        assert_eq!(snake_case("A"), "a");
    }
}
