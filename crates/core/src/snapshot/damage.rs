//! Placing damage: which VPCs' answers an unreadable object, a lost file or impossible data
//! can change (docs/failure-policy.md).
//!
//! A damage diagnostic names its object; the object's VPC (both sides for a peering, every
//! referencing VPC for a prefix list) is damaged. An object that was dropped is placed by the
//! VPCs its record named (the diagnostic's `scope`), else by its file's account and region
//! (every VPC with an object there), else nowhere in particular — which damages everything.
//! Over-marking is safe; under-marking would let a damaged answer pass as whole.

use std::collections::BTreeSet;
use std::path::Path;

use super::layout::SnapshotFile;
use crate::diagnostics::Diagnostic;
use crate::model::*;

/// The damage of a model, from its diagnostics and the files they name.
pub fn assess(model: &Model, diags: &[Diagnostic], files: &[SnapshotFile]) -> Damage {
    let mut out = Damage::default();
    for d in diags.iter().filter(|d| d.is_damage()) {
        out.count += 1;
        let mut vpcs: BTreeSet<VpcId> = d.scope.iter().cloned().collect();
        if let Some(o) = &d.object {
            vpcs.extend(model.vpcs_of(o));
        }
        if vpcs.is_empty() {
            match d.file.as_deref().and_then(|f| location(files, f)) {
                Some(loc) => vpcs.extend(vpcs_at(model, &loc)),
                None => out.everywhere = true,
            }
            if vpcs.is_empty() {
                out.everywhere = true;
            }
        }
        out.vpcs.extend(vpcs);
    }
    // A flow from an unseen VPC depends on every record of its connections, and a damaged
    // record may be gone from the model: an unseen VPC peered with a damaged VPC is damaged.
    let touched: Vec<VpcId> = model
        .unseen_vpcs()
        .values()
        .filter(|u| {
            u.peerings.iter().any(|p| {
                model.peerings.get(p).is_some_and(|c| {
                    out.vpcs.contains(&c.requester.vpc) || out.vpcs.contains(&c.accepter.vpc)
                })
            })
        })
        .map(|u| u.id.clone())
        .collect();
    out.vpcs.extend(touched);
    out
}

/// The account and region a file's folders name, when they name both.
fn location(files: &[SnapshotFile], rel: &Path) -> Option<(AccountId, Region)> {
    let f = files.iter().find(|f| f.rel == rel)?;
    Some((f.account.clone()?, f.region.clone()?))
}

/// Every VPC with an object in an account and region.
fn vpcs_at(m: &Model, (a, r): &(AccountId, Region)) -> BTreeSet<VpcId> {
    let at = |oa: &AccountId, or: &Region| oa == a && or == r;
    let mut out: BTreeSet<VpcId> = m
        .vpcs
        .values()
        .filter(|v| at(&v.account, &v.region))
        .map(|v| v.id.clone())
        .collect();
    out.extend(
        m.subnets
            .values()
            .filter(|s| at(&s.account, &s.region))
            .map(|s| s.vpc.clone()),
    );
    out.extend(
        m.route_tables
            .values()
            .filter(|t| at(&t.account, &t.region))
            .map(|t| t.vpc.clone()),
    );
    out.extend(
        m.network_acls
            .values()
            .filter(|x| at(&x.account, &x.region))
            .map(|x| x.vpc.clone()),
    );
    out.extend(
        m.security_groups
            .values()
            .filter(|g| at(&g.account, &g.region))
            .map(|g| g.vpc.clone()),
    );
    out
}
