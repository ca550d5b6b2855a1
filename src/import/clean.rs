//! Value cleaning shared by every importer: text (entities, tags, whitespace), prices in
//! minor units, booleans and dates. Each function answers `None` (or `Err(reason)`) and
//! leaves it to the caller to decide whether that is a gap or a malformed row.

/// Decodes HTML entities, strips HTML tags, collapses whitespace and trims; `None` when
/// nothing is left.
///
/// A `<` starts a tag only when a letter, `/`, `!` or `?` follows it, so `a < b` and
/// `x<5` are kept as text. Each tag becomes a space, so `one<br>two` reads `one two`.
pub fn clean_text(raw: &str) -> Option<String> {
    let decoded = html_escape::decode_html_entities(raw);
    let mut out = String::with_capacity(decoded.len());
    let mut in_tag = false;
    let mut chars = decoded.chars().peekable();
    while let Some(c) = chars.next() {
        if in_tag {
            if c == '>' {
                in_tag = false;
                out.push(' ');
            }
        } else if c == '<'
            && chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'))
        {
            in_tag = true;
        } else {
            out.push(c);
        }
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    (!collapsed.is_empty()).then_some(collapsed)
}

/// [`clean_text`] for Amazon brands: the pages render them as `by\n    Maker`, so a
/// leading lower-case word "by" is dropped (a brand "By Terry" keeps its name).
pub fn clean_brand(raw: &str) -> Option<String> {
    let text = clean_text(raw)?;
    match text.strip_prefix("by") {
        Some("") => None,
        Some(rest) if rest.starts_with(' ') => clean_text(rest),
        _ => Some(text),
    }
}

/// Parses a price in major units into minor units (cents): `$1,299.99`, `1299.99`, `12`,
/// `12.5`. A range `$5.99 - $12.99` gives its low end. Currency signs and spaces around
/// the number are ignored; commas must be thousands separators. More than two decimals
/// are rounded half up. `None` for anything else, including negative prices.
pub fn parse_price(raw: &str) -> Option<i64> {
    let text = raw.trim();
    // A range: the low end. A leading '-' is a negative price, which is not a price.
    let low = match text.find(['-', '\u{2013}']) {
        Some(0) => return None,
        Some(at) => &text[..at],
        None => text,
    };
    let number = low
        .trim()
        .trim_start_matches("US")
        .trim_start_matches(['$', '\u{a3}', '\u{20ac}'])
        .trim();
    parse_decimal_minor(number)
}

/// `1,299.99` -> 129999. Digits with optional thousands commas, an optional point and
/// fraction.
fn parse_decimal_minor(number: &str) -> Option<i64> {
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut units: i64 = 0;
    let groups: Vec<&str> = whole.split(',').collect();
    for (i, group) in groups.iter().enumerate() {
        let ok_len = if i == 0 {
            groups.len() == 1 || (1..=3).contains(&group.len())
        } else {
            group.len() == 3
        };
        if !ok_len || !group.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        for b in group.bytes() {
            units = units.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
        }
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digit = |n: usize| {
        fraction
            .as_bytes()
            .get(n)
            .map_or(0, |b| i64::from(b - b'0'))
    };
    let mut cents = digit(0) * 10 + digit(1);
    if digit(2) >= 5 {
        cents += 1;
    }
    units.checked_mul(100)?.checked_add(cents)
}

/// A price given as a JSON number of major units (12.99) in minor units; `None` when
/// negative or not finite.
pub fn price_from_f64(value: f64) -> Option<i64> {
    // Through the shortest decimal text, so 12.99 is 1299 and not 1298.9999.
    (value.is_finite() && value >= 0.0)
        .then(|| parse_decimal_minor(&value.to_string()))
        .flatten()
}

/// `true/false/1/0/yes/no`, any case.
pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Some(true),
        "false" | "0" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm);
/// `None` when the day does not exist.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_len = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > month_len {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The month number of an English month name or its three-letter abbreviation.
fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let lower = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let index = MONTHS
        .iter()
        .position(|m| lower == *m || (lower.len() == 3 && m.starts_with(&lower)))?;
    u32::try_from(index + 1).ok()
}

/// MovieLens release dates, `01-Jan-1995`: (year, Unix seconds of that day, UTC).
pub fn parse_day_month_year(raw: &str) -> Option<(i64, i64)> {
    let mut parts = raw.trim().splitn(3, '-');
    let day = parts.next()?.parse::<u32>().ok()?;
    let month = month_number(parts.next()?)?;
    let year = parts.next()?.parse::<i64>().ok()?;
    Some((year, days_from_civil(year, month, day)? * 86_400))
}

/// Amazon's `October 3, 2017` or `Oct 3, 2017`: Unix seconds of that day, UTC.
pub fn parse_month_day_year(raw: &str) -> Option<i64> {
    let (month, rest) = raw.trim().split_once(' ')?;
    let (day, year) = rest.split_once(',')?;
    let month = month_number(month)?;
    let day = day.trim().parse::<u32>().ok()?;
    let year = year.trim().parse::<i64>().ok()?;
    Some(days_from_civil(year, month, day)? * 86_400)
}

/// Unix milliseconds of a whole number of Unix seconds or an RFC 3339 date
/// (`2024-03-01`) or date-time (`2024-03-01T12:30:00Z`, `2024-03-01 12:30:00.250+02:00`;
/// no offset means UTC).
pub fn parse_time_ms(raw: &str) -> Option<i64> {
    let text = raw.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return seconds.checked_mul(1000);
    }
    let date = text.get(..10)?;
    let b = date.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&date[..4])?;
    let month = u32::try_from(digits(&date[5..7])?).ok()?;
    let day = u32::try_from(digits(&date[8..10])?).ok()?;
    let mut ms = days_from_civil(year, month, day)? * 86_400_000;
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(ms);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    if rest.len() < 8 || rest.as_bytes()[2] != b':' || rest.as_bytes()[5] != b':' {
        return None;
    }
    let (h, m, s) = (
        digits(rest.get(..2)?)?,
        digits(rest.get(3..5)?)?,
        digits(rest.get(6..8)?)?,
    );
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    ms += (h * 3600 + m * 60 + s) * 1000;
    let mut rest = &rest[8..];
    if let Some(frac) = rest.strip_prefix('.') {
        let len = frac.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        let first3 = format!("{:0<3}", &frac[..len.min(3)]);
        ms += digits(&first3)?;
        rest = &frac[len..];
    }
    let offset_minutes = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hm = &rest[1..];
            if hm.len() != 5 || hm.as_bytes()[2] != b':' {
                return None;
            }
            sign * (digits(&hm[..2])? * 60 + digits(&hm[3..])?)
        }
    };
    Some(ms - offset_minutes * 60_000)
}

/// A run of ASCII digits as a number; `None` for anything else, including a sign.
fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A non-negative count, thousands commas allowed (`1,234`).
pub fn parse_count(raw: &str) -> Option<i64> {
    let text = raw.trim();
    let minor = parse_decimal_minor(text)?;
    (!text.contains('.')).then_some(minor / 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_decoded_stripped_and_collapsed() {
        assert_eq!(
            clean_text("  Caf&eacute; <b>Noir</b>&amp;\n\t Co.<br/>x ").as_deref(),
            Some("Café Noir & Co. x")
        );
        assert_eq!(
            clean_text("a < b and x<5").as_deref(),
            Some("a < b and x<5")
        );
        assert_eq!(clean_text("one<br>two").as_deref(), Some("one two"));
        assert_eq!(clean_text("&lt;p&gt;hi&lt;/p&gt;").as_deref(), Some("hi"));
        assert_eq!(clean_text(" <p> </p>&nbsp;"), None);
        assert_eq!(clean_text(""), None);
        assert_eq!(clean_brand("by\n    Foo Inc").as_deref(), Some("Foo Inc"));
        assert_eq!(clean_brand("Byron").as_deref(), Some("Byron"));
        assert_eq!(clean_brand("By Terry").as_deref(), Some("By Terry"));
        assert_eq!(clean_brand("by "), None);
    }

    #[test]
    fn prices_become_cents() {
        assert_eq!(parse_price("$1,299.99"), Some(129_999));
        assert_eq!(parse_price("1299.99"), Some(129_999));
        assert_eq!(parse_price("12"), Some(1200));
        assert_eq!(parse_price("12.5"), Some(1250));
        assert_eq!(parse_price(".99"), Some(99));
        assert_eq!(parse_price("0.995"), Some(100));
        assert_eq!(parse_price("$5.99 - $12.99"), Some(599));
        assert_eq!(parse_price(" $ 7 "), Some(700));
        assert_eq!(parse_price("US$12"), Some(1200));
        assert_eq!(parse_price(""), None);
        assert_eq!(parse_price("-3"), None);
        assert_eq!(parse_price("1,2"), None);
        assert_eq!(parse_price("12,99"), None);
        assert_eq!(parse_price("1.2.3"), None);
        assert_eq!(parse_price(".a-box-inner{background-color:#fff}"), None);
        assert_eq!(parse_price("abc"), None);
        assert_eq!(parse_price("99999999999999999999"), None);
        assert_eq!(price_from_f64(12.99), Some(1299));
        assert_eq!(price_from_f64(0.1 + 0.2), Some(30));
        assert_eq!(price_from_f64(-1.0), None);
        assert_eq!(parse_count("1,234"), Some(1234));
        assert_eq!(parse_count("1.5"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 2, 29), Some(11_016));
        assert_eq!(days_from_civil(1900, 2, 29), None);
        assert_eq!(
            parse_day_month_year("01-Jan-1995"),
            Some((1995, 788_918_400))
        );
        assert_eq!(parse_day_month_year("31-Feb-1995"), None);
        assert_eq!(parse_month_day_year("October 3, 2017"), Some(1_506_988_800));
        assert_eq!(parse_time_ms("881250949"), Some(881_250_949_000));
        assert_eq!(parse_time_ms("2017-10-03"), Some(1_506_988_800_000));
        assert_eq!(
            parse_time_ms("2017-10-03T01:02:03.5Z"),
            Some(1_506_988_800_000 + 3_723_500)
        );
        assert_eq!(
            parse_time_ms("2017-10-03 02:02:03+01:00"),
            Some(1_506_988_800_000 + 3_723_000)
        );
        assert_eq!(parse_time_ms("2017-13-03"), None);
        assert_eq!(parse_time_ms("yesterday"), None);
        assert_eq!(parse_time_ms("2017-10-03T1"), None);
    }
}
