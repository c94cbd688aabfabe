//! peerscope: who can reach what across AWS VPC peerings.
