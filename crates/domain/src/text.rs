//! Counting rules shared by the text fields.

/// Length in Unicode scalar values, the unit every length rule uses.
pub(crate) fn char_len(s: &str) -> usize {
    s.chars().count()
}

pub(crate) fn within(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&char_len(s))
}
