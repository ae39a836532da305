//! AWS partitions and their regions (from the AWS SDKs' `partitions.json`).
//!
//! Matching follows the SDKs: an exact known region first, then the partition's
//! region pattern. Unlike the SDKs, a name no partition's pattern matches is not
//! assumed to be in `aws`: it is reported.

use std::sync::OnceLock;

use regex::Regex;

/// One partition.
#[derive(Debug)]
pub struct Partition {
    /// Partition id, as in ARNs (`aws`, `aws-cn`, ...).
    pub id: &'static str,
    /// Pattern of its region names.
    pub region_pattern: &'static str,
    /// Regions known when this table was written.
    pub known_regions: &'static [&'static str],
}

/// Every partition, most specific pattern first.
pub const PARTITIONS: &[Partition] = &[
    Partition {
        id: "aws-us-gov",
        region_pattern: r"^us\-gov\-\w+\-\d+$",
        known_regions: &["us-gov-east-1", "us-gov-west-1"],
    },
    Partition {
        id: "aws-iso",
        region_pattern: r"^us\-iso\-\w+\-\d+$",
        known_regions: &["us-iso-east-1", "us-iso-west-1"],
    },
    Partition {
        id: "aws-iso-b",
        region_pattern: r"^us\-isob\-\w+\-\d+$",
        known_regions: &["us-isob-east-1", "us-isob-west-1"],
    },
    Partition {
        id: "aws-iso-e",
        region_pattern: r"^eu\-isoe\-\w+\-\d+$",
        known_regions: &["eu-isoe-west-1"],
    },
    Partition {
        id: "aws-iso-f",
        region_pattern: r"^us\-isof\-\w+\-\d+$",
        known_regions: &["us-isof-east-1", "us-isof-south-1"],
    },
    Partition {
        id: "aws-eusc",
        region_pattern: r"^eusc\-(de)\-\w+\-\d+$",
        known_regions: &["eusc-de-east-1"],
    },
    Partition {
        id: "aws-cn",
        region_pattern: r"^cn\-\w+\-\d+$",
        known_regions: &["cn-north-1", "cn-northwest-1"],
    },
    Partition {
        id: "aws",
        region_pattern: r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$",
        known_regions: &[
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ],
    },
];

/// What a region name tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionLookup {
    /// A region the table lists.
    Known(&'static Partition),
    /// A well-formed name matching a partition's pattern, not (yet) in its list.
    Unlisted(&'static Partition),
    /// Not a region name of any partition.
    Malformed,
}

impl PartialEq for Partition {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Partition {}

fn patterns() -> &'static [Option<Regex>] {
    static PATTERNS: OnceLock<Vec<Option<Regex>>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        PARTITIONS
            .iter()
            .map(|p| Regex::new(p.region_pattern).ok())
            .collect()
    })
}

/// Looks up the partition of `region`.
pub fn lookup(region: &str) -> RegionLookup {
    if let Some(partition) = PARTITIONS
        .iter()
        .find(|p| p.known_regions.contains(&region))
    {
        return RegionLookup::Known(partition);
    }
    let well_formed = region.len() <= 25
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !well_formed {
        return RegionLookup::Malformed;
    }
    PARTITIONS
        .iter()
        .zip(patterns())
        .find(|(_, pattern)| pattern.as_ref().is_some_and(|p| p.is_match(region)))
        .map_or(RegionLookup::Malformed, |(partition, _)| {
            RegionLookup::Unlisted(partition)
        })
}

/// The partition of `region`, when the name is well-formed.
pub fn partition_of(region: &str) -> Option<&'static Partition> {
    match lookup(region) {
        RegionLookup::Known(p) | RegionLookup::Unlisted(p) => Some(p),
        RegionLookup::Malformed => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_partition_is_recognised_from_a_known_region() {
        for (region, id) in [
            ("us-east-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eusc-de-east-1", "aws-eusc"),
        ] {
            assert_eq!(
                lookup(region),
                RegionLookup::Known(partition_of(region).unwrap())
            );
            assert_eq!(partition_of(region).map(|p| p.id), Some(id), "{region}");
        }
    }

    #[test]
    fn unlisted_but_well_formed_names_match_by_pattern() {
        assert!(matches!(lookup("eu-west-9"), RegionLookup::Unlisted(p) if p.id == "aws"));
        assert!(
            matches!(lookup("us-gov-south-4"), RegionLookup::Unlisted(p) if p.id == "aws-us-gov")
        );
    }

    #[test]
    fn malformed_names_are_rejected() {
        for region in [
            "",
            "us-west2",
            "US-WEST-2",
            "uswest-2",
            "xx-west-1",
            "us-west-2 ",
            "us_west_2",
        ] {
            assert_eq!(lookup(region), RegionLookup::Malformed, "{region:?}");
        }
    }
}
