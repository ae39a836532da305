//! Writing an OCI image index over single-platform manifests that are already in the
//! registry (a multi-platform image built natively, one build per platform).

use bytes::Bytes;
use serde_json::json;

use crate::error::{Error, Result};
use crate::manifest::{Manifest, MediaType, Platform};

/// An OCI image index (`application/vnd.oci.image.index.v1+json`) with one entry per
/// `(manifest, platform)`, in the order given. Every manifest must be a single-platform
/// image manifest (OCI or Docker): an index of indexes, or an attestation entry, is not
/// what a platform build pushes.
pub fn image_index(entries: &[(Manifest, Platform)]) -> Result<Manifest> {
    let mut manifests = Vec::with_capacity(entries.len());
    for (manifest, platform) in entries {
        if MediaType::is_index(&manifest.media_type) {
            return Err(Error::Manifest {
                name: manifest.digest.to_string(),
                reason: format!(
                    "is a {}, not a single-platform image manifest ({})",
                    manifest.media_type, platform.architecture
                ),
            });
        }
        manifests.push(json!({
            "mediaType": manifest.media_type,
            "digest": manifest.digest.as_str(),
            "size": manifest.bytes.len(),
            "platform": platform,
        }));
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": MediaType::OCI_INDEX,
        "manifests": manifests,
    });
    Manifest::from_bytes(
        "image index",
        Bytes::from(index.to_string()),
        Some(MediaType::OCI_INDEX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Parsed;

    fn image(seed: char) -> Manifest {
        let text = json!({
            "schemaVersion": 2,
            "mediaType": MediaType::OCI_MANIFEST,
            "config": {"mediaType": MediaType::OCI_CONFIG, "size": 2,
                       "digest": format!("sha256:{}", seed.to_string().repeat(64))},
            "layers": []
        })
        .to_string();
        Manifest::from_bytes("m", Bytes::from(text), None).expect("manifest")
    }

    fn linux(architecture: &str) -> Platform {
        Platform {
            architecture: architecture.into(),
            os: "linux".into(),
            variant: None,
        }
    }

    #[test]
    fn an_index_names_each_manifest_with_its_size_and_platform() {
        let (a, b) = (image('a'), image('b'));
        let index = image_index(&[(a.clone(), linux("amd64")), (b.clone(), linux("arm64"))])
            .expect("index");
        assert_eq!(index.media_type, MediaType::OCI_INDEX);
        let Parsed::Index { manifests } = index.parse().expect("parses") else {
            panic!("not an index")
        };
        assert_eq!(manifests.len(), 2);
        assert_eq!(manifests[0].digest, a.digest);
        assert_eq!(manifests[0].size, a.bytes.len() as u64);
        assert_eq!(
            manifests[1]
                .platform
                .as_ref()
                .map(|p| p.architecture.as_str()),
            Some("arm64")
        );
        assert_eq!(
            image_index(&[(a, linux("amd64")), (b, linux("arm64"))])
                .map(|i| i.digest)
                .ok(),
            Some(index.digest),
            "the same manifests give the same index"
        );
    }

    #[test]
    fn an_index_is_not_an_entry() {
        let inner = image_index(&[(image('a'), linux("amd64")), (image('b'), linux("arm64"))])
            .expect("index");
        let e = image_index(&[(inner, linux("amd64")), (image('c'), linux("arm64"))])
            .expect_err("refused");
        assert!(
            e.to_string()
                .contains("not a single-platform image manifest"),
            "{e}"
        );
    }
}
