//! Reading what other tools wrote: JUnit XML from CI, and alert payloads from Alertmanager and
//! PagerDuty. Parsing only: what the results mean is decided in `state::imports`.

pub mod alerts;
pub mod junit;
