//! Where an actor may act on tubes: the rule the HTTP layer checks before
//! a request and the engine checks again, inside the transaction, for
//! every command it applies (a waiting sync event included).

use crate::area::AreaPath;

/// An actor's reach over the sampling pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// A trusted in-process caller (generators, tests, the start-up sweep):
    /// no account stands behind it, so no scope narrows it.
    Everywhere,
    /// People on the ground: sites, tubes and boxes whose site lies in this
    /// area subtree; no lab steps.
    Area(AreaPath),
    /// A lab account: receipts and results for any barcode; no sampling.
    Lab,
    /// An account that may not touch the pipeline at all (admin, or an
    /// account without a scope): every command is refused.
    Nowhere,
}

impl Reach {
    /// May this actor sample (open, fill, seal, box, hand over) at a site
    /// whose area has `site_area`?
    pub fn may_sample_at(&self, site_area: &AreaPath) -> bool {
        match self {
            Reach::Everywhere => true,
            Reach::Area(scope) => site_area.is_within(scope),
            Reach::Lab | Reach::Nowhere => false,
        }
    }

    /// May this actor sample at all (before any site is known)?
    pub fn samples(&self) -> bool {
        matches!(self, Reach::Everywhere | Reach::Area(_))
    }

    /// May this actor take tubes in and post results?
    pub fn is_lab(&self) -> bool {
        matches!(self, Reach::Everywhere | Reach::Lab)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> AreaPath {
        AreaPath::parse(s).expect("valid path")
    }

    #[test]
    fn area_reach_is_a_subtree() {
        let r = Reach::Area(path("/1/2/"));
        assert!(r.may_sample_at(&path("/1/2/")));
        assert!(r.may_sample_at(&path("/1/2/5/")));
        assert!(!r.may_sample_at(&path("/1/3/")));
        assert!(!r.may_sample_at(&path("/1/")));
        assert!(!r.is_lab());
        assert!(Reach::Lab.is_lab());
        assert!(!Reach::Lab.may_sample_at(&path("/1/")));
        assert!(!Reach::Nowhere.samples());
        assert!(!Reach::Nowhere.is_lab());
    }
}
