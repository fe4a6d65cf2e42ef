//! Fakes of identity providers' APIs, each mounted under a path prefix of the sandbox server
//! (`/okta/api/v1/...`) with its own auth, paging, rate limit and error shapes. A fake is seeded
//! from the sandbox organization, so that its people agree with it by email, but for a few who
//! are not provisioned yet and a few whose value has not reached Calendly yet.

pub mod okta;

use std::sync::Arc;

use axum::Router;

use super::state::OrgState;

/// The fakes' options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub okta: okta::Options,
}

/// The running fakes.
pub struct Fakes {
    pub okta: Arc<okta::Fake>,
}

impl Fakes {
    pub fn new(opts: Options, st: &OrgState) -> Fakes {
        Fakes { okta: Arc::new(okta::Fake::seeded(opts.okta, st)) }
    }

    /// `router` with every fake mounted (outside the Calendly routes' token check).
    pub fn mount(&self, router: Router) -> Router {
        router.nest(okta::PREFIX, okta::router(self.okta.clone()))
    }
}
