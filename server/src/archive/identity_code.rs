//! The Finnish personal identity code (henkilötunnus) an archivist searches by: `DDMMYYCZZZQ`,
//! where C is the century sign, ZZZ the individual number and Q the check character of the
//! nine digits modulo 31. Test codes (individual numbers 900–999) are accepted: the archive's
//! test and demo clients use them.

use std::fmt;

const CHECK_CHARACTERS: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonalIdentityCode(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityCodeError {
    #[error(
        "a personal identity code is 11 characters: DDMMYY, a century sign, three digits and a check character"
    )]
    Shape,
    #[error("the date part of the personal identity code is not a date")]
    Date,
    #[error("the check character of the personal identity code does not match")]
    CheckCharacter,
}

impl PersonalIdentityCode {
    pub fn parse(value: &str) -> Result<Self, IdentityCodeError> {
        let code = value.trim().to_ascii_uppercase();
        let bytes = code.as_bytes();
        if bytes.len() != 11 {
            return Err(IdentityCodeError::Shape);
        }
        let digits = |range: std::ops::Range<usize>| {
            code.get(range)
                .filter(|part| part.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|part| part.parse::<u32>().ok())
        };
        let (Some(day), Some(month), Some(_year), Some(individual)) =
            (digits(0..2), digits(2..4), digits(4..6), digits(7..10))
        else {
            return Err(IdentityCodeError::Shape);
        };
        // + 1800s, - and Y X W V U 1900s, A B C D E F 2000s (the 2023 reform's extra signs).
        if !bytes
            .get(6)
            .is_some_and(|sign| b"+-YXWVUABCDEF".contains(sign))
        {
            return Err(IdentityCodeError::Shape);
        }
        if !(1..=31).contains(&day) || !(1..=12).contains(&month) || individual < 2 {
            return Err(IdentityCodeError::Date);
        }
        let number = digits(0..6).unwrap_or_default() * 1000 + individual;
        let expected = usize::try_from(number % 31)
            .ok()
            .and_then(|index| CHECK_CHARACTERS.get(index));
        if expected.is_none() || bytes.get(10) != expected {
            return Err(IdentityCodeError::CheckCharacter);
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonalIdentityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_codes_of_both_centuries_and_the_test_series() {
        for code in ["131052-308T", "010101A900R", " 100477-955b ", "311299-9872"] {
            let parsed = PersonalIdentityCode::parse(code);
            assert!(parsed.is_ok(), "{code}: {parsed:?}");
        }
        assert_eq!(
            PersonalIdentityCode::parse("100477-955b").map(|c| c.to_string()),
            Ok("100477-955B".to_owned())
        );
    }

    #[test]
    fn each_kind_of_mistake_is_named() {
        assert_eq!(
            PersonalIdentityCode::parse("131052-308U"),
            Err(IdentityCodeError::CheckCharacter)
        );
        assert_eq!(
            PersonalIdentityCode::parse("131052-308"),
            Err(IdentityCodeError::Shape)
        );
        assert_eq!(
            PersonalIdentityCode::parse("131052*308T"),
            Err(IdentityCodeError::Shape)
        );
        assert_eq!(
            PersonalIdentityCode::parse("1310a2-308T"),
            Err(IdentityCodeError::Shape)
        );
        assert_eq!(
            PersonalIdentityCode::parse("321052-308T"),
            Err(IdentityCodeError::Date)
        );
        assert_eq!(
            PersonalIdentityCode::parse("131352-308T"),
            Err(IdentityCodeError::Date)
        );
        assert_eq!(
            PersonalIdentityCode::parse(""),
            Err(IdentityCodeError::Shape)
        );
    }
}
