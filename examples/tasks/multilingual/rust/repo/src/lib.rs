//! Splits one line of comma-separated values into its fields (RFC 4180:
//! fields may be quoted; a quoted field may hold commas and doubled quotes).

/// Why a line could not be split.
#[derive(Debug, PartialEq, Eq)]
pub enum Error {
    /// A quoted field is not closed before the end of the line.
    UnterminatedQuote,
}

/// Returns the fields of `line`, unquoted.
pub fn split_fields(line: &str) -> Result<Vec<String>, Error> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quotes = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' => in_quotes = false,
                _ => field.push(c),
            }
        } else {
            match c {
                '"' if field.is_empty() => in_quotes = true,
                ',' => fields.push(std::mem::take(&mut field)),
                _ => field.push(c),
            }
        }
    }
    if in_quotes {
        return Err(Error::UnterminatedQuote);
    }
    fields.push(field);
    Ok(fields)
}
