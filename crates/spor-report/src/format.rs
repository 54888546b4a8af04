//! Norwegian number formats (Språkrådet, CLDR nb): a no-break space between
//! thousands, a decimal comma, a no-break space before `%`.

/// A count: `10 000` (with U+00A0).
pub fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage with one decimal: `62,5 %` (with U+00A0).
pub fn percent(share: f64) -> String {
    format!("{:.1}\u{a0}%", share * 100.0).replace('.', ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_cldr_nb() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1000), "1\u{a0}000");
        assert_eq!(number(1_234_567), "1\u{a0}234\u{a0}567");
        assert_eq!(percent(0.625), "62,5\u{a0}%");
        assert_eq!(percent(0.3), "30,0\u{a0}%");
    }
}
