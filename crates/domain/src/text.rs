//! Counting rules shared by the text fields.

/// Length in Unicode scalar values, the unit every length rule uses.
pub(crate) fn char_len(s: &str) -> usize {
    s.chars().count()
}

pub(crate) fn within(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&char_len(s))
}

/// Characters no label should hold: control characters (a NUL cannot even be stored in
/// PostgreSQL) and the ones that reverse or isolate text direction, with which a name can be
/// made to read as another in the admin UI. `allow_line_breaks` keeps newlines and tabs.
pub(crate) fn has_hidden_characters(s: &str, allow_line_breaks: bool) -> bool {
    s.chars().any(|c| {
        let line_break = matches!(c, '\n' | '\r' | '\t');
        (c.is_control() && !(allow_line_breaks && line_break))
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}
