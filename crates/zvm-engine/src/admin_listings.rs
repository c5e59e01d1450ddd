//! The two account-wide listings an admin's run uses when Zoom allows them, and what the
//! catalog does when Zoom refuses one (zoom-api.md §2 "Account level", §4).
//!
//! `GET /accounts/me/recordings` lists every user's meetings of a month in one walk of pages;
//! `GET /meetings/meeting_summaries` names the meetings of a month that have an AI Companion
//! summary, so the others need no `meeting_summary` request. Some apps, accounts and plans
//! are refused either one. A refusal is not a failure: the run goes the slower way (users x
//! months, a summary request per meeting) and says once which scope would make it faster.
//!
//! A [`Probe`] keeps a refused listing from being asked again: the listings of several
//! months run ahead at once, and without it each of them would meet the same refusal.

use std::collections::HashSet;
use std::future::Future;

use tokio::sync::Mutex;
use zvm_zoom::models::{Meeting, SummaryListing};
use zvm_zoom::{AdminListing, ZoomError};

use crate::events::Notice;

/// What is known of one admin listing in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Access {
    /// Nothing yet: the first request asks alone.
    Unknown,
    /// Zoom answered it once: the rest may run side by side.
    Allowed,
    /// Zoom refused it: not asked again in this run. What to tell the admin, if anything.
    Refused(Option<Notice>),
}

/// One admin listing's access in this run, learnt from its first answer.
pub(crate) struct Probe {
    listing: AdminListing,
    access: Mutex<Access>,
}

impl Probe {
    pub(crate) fn new(listing: AdminListing) -> Self {
        Self {
            listing,
            access: Mutex::new(Access::Unknown),
        }
    }

    /// Runs `listing` unless the listing was refused already (`None`). Until Zoom has
    /// answered once, one listing runs at a time, so a refusal costs one request, not one
    /// per month listed ahead. Errors other than a refusal teach nothing: the next
    /// listing asks again.
    pub(crate) async fn run<T, Fut>(&self, listing: Fut) -> Option<Result<T, ZoomError>>
    where
        Fut: Future<Output = Result<T, ZoomError>>,
    {
        let mut access = self.access.lock().await;
        match &*access {
            Access::Refused(_) => None,
            Access::Allowed => {
                drop(access);
                let answer = listing.await;
                if let Err(e) = &answer
                    && e.is_refused()
                {
                    let mut access = self.access.lock().await;
                    if !matches!(*access, Access::Refused(_)) {
                        *access = Access::Refused(refusal_notice(self.listing, e));
                    }
                }
                Some(answer)
            }
            Access::Unknown => {
                let answer = listing.await;
                match &answer {
                    Ok(_) => *access = Access::Allowed,
                    Err(e) if e.is_refused() => {
                        *access = Access::Refused(refusal_notice(self.listing, e))
                    }
                    Err(_) => {}
                }
                Some(answer)
            }
        }
    }

    /// Whether Zoom refused the listing in this run.
    pub(crate) async fn refused(&self) -> bool {
        matches!(*self.access.lock().await, Access::Refused(_))
    }

    /// What to tell the admin, once Zoom refused the listing in this run.
    pub(crate) async fn refusal(&self) -> Option<Notice> {
        match &*self.access.lock().await {
            Access::Refused(n) => n.clone(),
            _ => None,
        }
    }
}

/// What to tell the admin when Zoom refused `listing` with `e`: the scope to grant, and
/// Zoom's status and code. Nothing for a summary listing refused with 400 code 200, Zoom's
/// answer on a plan without AI Companion: no scope helps, and the first summary request
/// says so once ([`Notice::SummariesNotOnPlan`]).
pub(crate) fn refusal_notice(listing: AdminListing, e: &ZoomError) -> Option<Notice> {
    if listing == AdminListing::MeetingSummaries && (e.status(), e.code()) == (Some(400), Some(200))
    {
        return None;
    }
    let scope = e
        .scope_to_grant()
        .unwrap_or_else(|| listing.scope().to_string());
    let refusal = match (e.status(), e.code()) {
        (Some(status), Some(code)) => format!("HTTP {status}, code {code}"),
        (Some(status), None) => format!("HTTP {status}"),
        _ => e.to_string(),
    };
    Some(match listing {
        AdminListing::AccountRecordings => Notice::AccountListingRefused { scope, refusal },
        AdminListing::MeetingSummaries => Notice::SummaryListingRefused { scope, refusal },
    })
}

/// Marks each meeting of a month with whether the month's summary listing names it (see
/// [`Meeting::summary_listed`]): the details step asks `meeting_summary` only for those.
pub(crate) fn mark_summaries(meetings: &mut [Meeting], listed: &[SummaryListing]) {
    let with_summary: HashSet<&str> = listed.iter().map(|s| s.meeting_uuid.as_str()).collect();
    for m in meetings {
        m.summary_listed = Some(with_summary.contains(m.uuid.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, body: &str) -> ZoomError {
        ZoomError::api(status, body, None).refusing(AdminListing::AccountRecordings)
    }

    #[tokio::test]
    async fn a_refused_listing_is_asked_once_and_says_what_to_grant() {
        let probe = Probe::new(AdminListing::AccountRecordings);
        let asked = std::sync::atomic::AtomicUsize::new(0);
        let ask = || async {
            asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err::<(), _>(refused(
                404,
                r#"{"code":2001,"message":"Account does not exist"}"#,
            ))
        };
        assert!(probe.refusal().await.is_none());
        assert!(!probe.refused().await);
        assert!(matches!(probe.run(ask()).await, Some(Err(_))));
        assert!(probe.refused().await);
        assert!(probe.run(ask()).await.is_none());
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);
        let notice = probe.refusal().await.expect("refused");
        assert_eq!(
            notice,
            Notice::AccountListingRefused {
                scope: "cloud_recording:read:list_account_recordings:admin".into(),
                refusal: "HTTP 404, code 2001".into(),
            }
        );
        let words = notice.to_string();
        assert!(
            words.contains("listing each user's recordings instead"),
            "{words}"
        );
    }

    #[tokio::test]
    async fn other_errors_do_not_stop_the_listing() {
        let probe = Probe::new(AdminListing::MeetingSummaries);
        let failed = probe
            .run(async { Err::<(), _>(ZoomError::api(503, "{}", None)) })
            .await;
        assert!(matches!(failed, Some(Err(_))));
        assert!(probe.refusal().await.is_none());
        assert!(matches!(probe.run(async { Ok(1) }).await, Some(Ok(1))));
        assert!(matches!(probe.run(async { Ok(2) }).await, Some(Ok(2))));
        // A refusal after it was allowed still stops it.
        let e = ZoomError::api(403, r#"{"code":4700,"message":"no"}"#, None)
            .refusing(AdminListing::MeetingSummaries);
        assert!(matches!(
            probe.run(async { Err::<(), _>(e) }).await,
            Some(Err(_))
        ));
        assert!(probe.run(async { Ok(3) }).await.is_none());
        assert!(matches!(
            probe.refusal().await,
            Some(Notice::SummaryListingRefused { .. })
        ));
    }

    #[tokio::test]
    async fn a_plan_without_summaries_is_refused_without_a_scope_to_grant() {
        let probe = Probe::new(AdminListing::MeetingSummaries);
        let e = ZoomError::api(400, r#"{"code":200,"message":"paid accounts only"}"#, None)
            .refusing(AdminListing::MeetingSummaries);
        assert!(matches!(
            probe.run(async { Err::<(), _>(e) }).await,
            Some(Err(_))
        ));
        assert!(probe.refused().await);
        assert_eq!(probe.refusal().await, None);
    }

    #[test]
    fn meetings_are_marked_by_the_summary_listing() {
        let mut ms: Vec<Meeting> = ["a", "b"]
            .iter()
            .map(|u| Meeting {
                uuid: u.to_string(),
                ..Meeting::default()
            })
            .collect();
        let listed = vec![SummaryListing {
            meeting_uuid: "b".into(),
            ..SummaryListing::default()
        }];
        mark_summaries(&mut ms, &listed);
        assert_eq!(ms[0].summary_listed, Some(false));
        assert_eq!(ms[1].summary_listed, Some(true));
    }
}
