//! All-pairs reachability over sets (in progress).
