//! The controllers whose material a signed-in archivist may see on this request.
//!
//! A [`ControllerScope`] is built only here, in the authentication layer, from the card's links
//! in force at the start of the request; everything that reads client data takes one, and the
//! database enforces the same set again through row-level security.

use crate::archive::ControllerOid;

use super::CardKey;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerScope {
    card: CardKey,
    controllers: Vec<ControllerOid>,
}

impl ControllerScope {
    /// Only [`super::Authenticator`] calls this, with the links it has just read.
    pub(super) fn new(card: CardKey, mut controllers: Vec<ControllerOid>) -> Self {
        controllers.sort();
        controllers.dedup();
        Self { card, controllers }
    }

    /// The card the scope was built for.
    pub fn card(&self) -> &CardKey {
        &self.card
    }

    /// In OID order; empty when the card is linked to nothing.
    pub fn controllers(&self) -> &[ControllerOid] {
        &self.controllers
    }

    pub fn is_empty(&self) -> bool {
        self.controllers.is_empty()
    }

    pub fn contains(&self, controller: &ControllerOid) -> bool {
        self.controllers.binary_search(controller).is_ok()
    }

    /// The scope an archivist works in after choosing one controller: just that one while it is
    /// still linked; all linked controllers when none was chosen or the chosen one has since
    /// been unlinked (the choice never widens the scope).
    pub fn narrowed_to(&self, chosen: Option<&ControllerOid>) -> ControllerScope {
        match chosen {
            Some(oid) if self.contains(oid) => Self {
                card: self.card.clone(),
                controllers: vec![oid.clone()],
            },
            _ => self.clone(),
        }
    }

    /// The value of the `archivist.controllers` setting the row-level security policies read.
    /// OIDs never contain commas, so the list needs no quoting.
    pub(crate) fn database_setting(&self) -> String {
        self.controllers
            .iter()
            .map(ControllerOid::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use identity::CardNumber;

    #[test]
    fn the_database_setting_lists_each_controller_once() {
        let card = CardKey {
            issuer: "CN=Test".to_owned(),
            card_number: CardNumber::parse("99900011M").expect("number"),
        };
        let oid = |s: &str| ControllerOid::parse(s).expect("oid");
        let scope = ControllerScope::new(card, vec![oid("1.2.3"), oid("1.2.1"), oid("1.2.3")]);
        assert_eq!(scope.database_setting(), "1.2.1,1.2.3");
        assert!(!scope.is_empty());
    }

    #[test]
    fn a_choice_narrows_the_scope_but_never_widens_it() {
        let card = CardKey {
            issuer: "CN=Test".to_owned(),
            card_number: CardNumber::parse("99900011M").expect("number"),
        };
        let oid = |s: &str| ControllerOid::parse(s).expect("oid");
        let scope = ControllerScope::new(card, vec![oid("1.2.1"), oid("1.2.3")]);
        assert_eq!(
            scope.narrowed_to(Some(&oid("1.2.3"))).controllers(),
            &[oid("1.2.3")]
        );
        assert_eq!(scope.narrowed_to(None), scope);
        assert_eq!(
            scope.narrowed_to(Some(&oid("1.2.9"))),
            scope,
            "a controller no longer linked is not kept"
        );
    }
}
