//! What the URL fuzz targets share: a URL built from fuzzer input around a password, and the
//! check that no part of the password shows in what a parser says about the URL (its error,
//! Display and Debug, or the Debug output of the connector it gives). The same check as the
//! property test `tests/parsers.rs` of the workspace, for as long as one cares to run it.

use libfuzzer_sys::arbitrary::{self, Arbitrary};

/// A URL around a password, from fuzzer bytes.
#[derive(Debug, Arbitrary)]
pub struct UrlInput {
    scheme: u8,
    user: String,
    password: String,
    escaped: bool,
    in_user_info: bool,
    in_option: bool,
    rest: String,
    options: Vec<String>,
    option_at: u8,
}

impl UrlInput {
    fn scheme<'a>(&self, schemes: &[&'a str]) -> &'a str {
        schemes.get(usize::from(self.scheme) % schemes.len().max(1)).copied().unwrap_or("")
    }

    /// The URL with `password` written in (as is, or escaped), and the same with each place of
    /// the password marked by a NUL.
    fn build(&self, schemes: &[&str], password: &str) -> (String, String) {
        let written = if self.escaped { escape(password) } else { password.to_owned() };
        let mut urls = (String::new(), String::new());
        for (out, pw) in [(&mut urls.0, written.as_str()), (&mut urls.1, "\u{0}")] {
            out.push_str(self.scheme(schemes));
            if self.in_user_info {
                out.push_str(&format!("{}:{pw}@", self.user));
            }
            out.push_str(&self.rest);
            let mut options = self.options.clone();
            if self.in_option {
                let at = usize::from(self.option_at).min(options.len());
                options.insert(at, format!("password={pw}"));
            }
            if !options.is_empty() {
                out.push('?');
                out.push_str(&options.join("&"));
            }
        }
        urls
    }
}

/// Runs `says` on text after each scheme (no panic on any text), then on the URL of `input`,
/// and panics when it shows four characters or more of the password, as written or as meant,
/// that occur nowhere else in the URL and that it does not also show for the same URL with
/// another password of the same shape.
pub fn check_url(input: &UrlInput, schemes: &[&str], says: impl Fn(&str) -> String) {
    says(&input.rest);
    says(&format!("{}{}", input.scheme(schemes), input.rest));
    let (url, elsewhere) = input.build(schemes, &input.password);
    let said = says(&url);
    let said_for_other = says(&input.build(schemes, &rotate(&input.password)).0);
    let written = if input.escaped { escape(&input.password) } else { input.password.clone() };
    if input.in_user_info && two_readings(&format!("{}:{written}", input.user)) {
        return;
    }
    if input.in_option && written.contains('&') {
        // `password=a&host=b`: an unescaped `&` makes two options of the password.
        return;
    }
    for form in [&input.password, &written] {
        let chars: Vec<char> = form.chars().collect();
        for w in chars.windows(4) {
            let part: String = w.iter().collect();
            if said.contains(&part) && !elsewhere.contains(&part) && !said_for_other.contains(&part)
            {
                panic!("`{part}` of the password shows for {url:?}: {said}");
            }
        }
    }
}

/// Whether user information (`user:password`, as written) with an unescaped `@` and, after it,
/// an unescaped `?` reads two ways (the `@` ends the user information, or the `?` starts the
/// query). Such a URL is not well formed (RFC 3986 has no `@` in user information); the parser
/// reads it one way, and what it then shows of the host or query is not counted as a leak.
fn two_readings(written: &str) -> bool {
    written.find('@').is_some_and(|at| written[at..].contains('?'))
}

/// `s` with everything but the unreserved characters percent-escaped.
fn escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The same shape with other letters and digits (ROT13, +5), leaving the two characters after a
/// `%` alone so an escape stays (in)valid.
fn rotate(s: &str) -> String {
    let mut after_percent = 0;
    s.chars()
        .map(|c| {
            if after_percent > 0 {
                after_percent -= 1;
                return c;
            }
            if c == '%' {
                after_percent = 2;
            }
            let shift = |c: char, base: u8, n: u8, by: u8| {
                char::from(base + (u8::try_from(c).unwrap_or(base) - base + by) % n)
            };
            match c {
                'a'..='z' => shift(c, b'a', 26, 13),
                'A'..='Z' => shift(c, b'A', 26, 13),
                '0'..='9' => shift(c, b'0', 10, 5),
                c => c,
            }
        })
        .collect()
}
