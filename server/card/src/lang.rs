//! The language of the tool's messages: `--lang`, else the locale (`LC_ALL`, `LC_MESSAGES`,
//! `LANG`, in POSIX order of precedence), else English.

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Fi,
    Sv,
    En,
}

impl Lang {
    pub fn from_locale(lookup: impl Fn(&str) -> Option<String>) -> Self {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|name| lookup(name))
            .find(|value| !value.is_empty())
            .map_or(Self::En, |value| {
                let value = value.to_ascii_lowercase();
                if value.starts_with("fi") {
                    Self::Fi
                } else if value.starts_with("sv") {
                    Self::Sv
                } else {
                    Self::En
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_locale_chooses_and_lc_all_wins() {
        assert_eq!(
            Lang::from_locale(with(&[("LANG", "fi_FI.UTF-8")])),
            Lang::Fi
        );
        assert_eq!(
            Lang::from_locale(with(&[("LANG", "sv_FI.UTF-8")])),
            Lang::Sv
        );
        assert_eq!(
            Lang::from_locale(with(&[("LC_ALL", "sv_SE"), ("LANG", "fi_FI")])),
            Lang::Sv
        );
        assert_eq!(
            Lang::from_locale(with(&[("LC_ALL", ""), ("LANG", "fi_FI")])),
            Lang::Fi
        );
        assert_eq!(Lang::from_locale(with(&[("LANG", "C.UTF-8")])), Lang::En);
        assert_eq!(Lang::from_locale(with(&[])), Lang::En);
    }
}
