//! Times as archivists read them: in Finland's time (Europe/Helsinki, summer time included),
//! written the way each language writes them. The data keeps RFC 3339 in UTC (in `datetime`
//! and the tooltip too); only what is shown changes. A value that is not a time is shown as it
//! is, never as a blank.

use jiff::{Timestamp, tz::TimeZone};
use leptos::prelude::*;

use crate::i18n::{Language, use_language};

/// Finland's zone: the days of the search and audit filters are its days too.
pub const ZONE: &str = "Europe/Helsinki";

/// `rfc3339` in Finland's time, in `language`'s way of writing it.
pub fn display(language: Language, rfc3339: &str) -> String {
    let (Ok(instant), Ok(zone)) = (rfc3339.parse::<Timestamp>(), TimeZone::get(ZONE)) else {
        return rfc3339.to_owned();
    };
    let format = match language {
        Language::Fi => "%-d.%-m.%Y klo %-H.%M.%S",
        Language::Sv => "%-d.%-m.%Y kl. %-H.%M.%S",
        Language::En => "%-d %b %Y %H:%M:%S",
    };
    instant.to_zoned(zone).strftime(format).to_string()
}

/// A `<time>` element showing `value` (RFC 3339) in Finland's time.
#[component]
pub fn Time(value: String) -> impl IntoView {
    let language = use_language();
    let shown = value.clone();
    let title = format!("{value} UTC");
    view! {
        <time datetime=value title=title>
            {move || display(language.get(), &shown)}
        </time>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winter_and_summer_time_in_each_language() {
        assert_eq!(
            display(Language::Fi, "2024-01-15T10:00:05Z"),
            "15.1.2024 klo 12.00.05"
        );
        assert_eq!(
            display(Language::Sv, "2024-07-01T10:00:00Z"),
            "1.7.2024 kl. 13.00.00"
        );
        assert_eq!(
            display(Language::En, "2024-07-01T10:00:00+00:00"),
            "1 Jul 2024 13:00:00"
        );
    }

    #[test]
    fn the_summer_time_change_and_an_older_rule() {
        // 31 March 2024, 03.00 local time became 04.00 (at 01.00 UTC).
        assert_eq!(
            display(Language::Fi, "2024-03-31T00:59:59Z"),
            "31.3.2024 klo 2.59.59"
        );
        assert_eq!(
            display(Language::Fi, "2024-03-31T01:00:00Z"),
            "31.3.2024 klo 4.00.00"
        );
        // Finland had no summer time before 1981.
        assert_eq!(
            display(Language::Fi, "1975-07-01T12:00:00Z"),
            "1.7.1975 klo 14.00.00"
        );
    }

    #[test]
    fn what_is_not_a_time_is_shown_as_it_is() {
        assert_eq!(display(Language::Fi, "2024-13-01"), "2024-13-01");
        assert_eq!(display(Language::Fi, ""), "");
    }
}
