//! The kinds of metadata document and the scopes they live in.

use std::fmt;

use crate::ids::MerchantId;

/// Where a document lives: the platform (shared by every merchant) or one merchant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Platform,
    Merchant(MerchantId),
}

impl Scope {
    /// A stable, unambiguous key for storage: `platform` or `merchant:<id>`.
    pub fn key(&self) -> String {
        match self {
            Scope::Platform => "platform".to_owned(),
            Scope::Merchant(id) => format!("merchant:{id}"),
        }
    }

    pub fn merchant(&self) -> Option<&MerchantId> {
        match self {
            Scope::Platform => None,
            Scope::Merchant(id) => Some(id),
        }
    }
}

/// A kind of metadata document. Each has a JSON Schema in `domain/schemas/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    PaymentMethod,
    PaymentCombination,
    CheckoutPage,
    DiscountFunction,
    RoutingTable,
    OrderFlow,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::PaymentMethod,
        Kind::PaymentCombination,
        Kind::CheckoutPage,
        Kind::DiscountFunction,
        Kind::RoutingTable,
        Kind::OrderFlow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PaymentMethod => "payment-method",
            Kind::PaymentCombination => "payment-combination",
            Kind::CheckoutPage => "checkout-page",
            Kind::DiscountFunction => "discount-function",
            Kind::RoutingTable => "routing-table",
            Kind::OrderFlow => "order-flow",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The catalog is platform-wide; merchant configuration is per merchant; the order flow
    /// exists at both (the platform's is the default a merchant may override).
    pub fn allowed_in(self, scope: &Scope) -> bool {
        match scope {
            Scope::Platform => self.at_platform(),
            Scope::Merchant(_) => self.at_merchants(),
        }
    }

    /// Whether documents of the kind live at platform scope.
    pub fn at_platform(self) -> bool {
        matches!(self, Kind::PaymentMethod | Kind::OrderFlow)
    }

    /// Whether documents of the kind live at merchant scope.
    pub fn at_merchants(self) -> bool {
        self != Kind::PaymentMethod
    }

    pub fn scopes_description(self) -> &'static str {
        match self {
            Kind::PaymentMethod => "platform",
            Kind::OrderFlow => "platform, merchant",
            _ => "merchant",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("payment_method"), None);
    }

    #[test]
    fn scope_rules() {
        let m = Scope::Merchant(MerchantId::parse("haidilao").unwrap());
        assert!(Kind::PaymentMethod.allowed_in(&Scope::Platform));
        assert!(!Kind::PaymentMethod.allowed_in(&m));
        assert!(Kind::OrderFlow.allowed_in(&Scope::Platform) && Kind::OrderFlow.allowed_in(&m));
        assert!(!Kind::RoutingTable.allowed_in(&Scope::Platform));
        assert_eq!(m.key(), "merchant:haidilao");
    }
}
