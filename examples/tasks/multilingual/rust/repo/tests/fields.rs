use csvline::{split_fields, Error};

#[test]
fn plain_fields() {
    assert_eq!(split_fields("a,b,c").unwrap(), vec!["a", "b", "c"]);
}

#[test]
fn empty_fields() {
    assert_eq!(split_fields(",x,").unwrap(), vec!["", "x", ""]);
}

#[test]
fn quoted_comma() {
    assert_eq!(split_fields("\"a,b\",c").unwrap(), vec!["a,b", "c"]);
}

#[test]
fn unterminated_quote() {
    assert_eq!(split_fields("\"abc"), Err(Error::UnterminatedQuote));
}
