//! A reading client for the OCI distribution API (HTTP API v2; OCI distribution spec
//! v1.1, "Pull"), as served by Docker Hub, ghcr.io, public.ecr.aws, quay.io and the
//! reference registry. Manifests by tag or digest, blobs by digest (following redirects to
//! blob storage), with the token flow of the Docker registry auth spec: on a 401 with
//! `WWW-Authenticate: Bearer realm=...,service=...,scope=...` a pull token is fetched from
//! the realm (anonymously, or with basic credentials) and the request repeated.

use tokio::sync::Mutex;

use base64::Engine as _;
use hyper::StatusCode;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};

use crate::copy::Source;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::http::{HttpClient, body_stream, error_text, read_limited, redact};
use crate::manifest::{Descriptor, MAX_MANIFEST_BYTES, Manifest, MediaType};
use crate::stream::{BlobStream, verified};

/// Redirects followed for one blob (registries send blobs to object storage or a CDN).
const MAX_REDIRECTS: usize = 5;
/// The largest token response read.
const MAX_TOKEN_BYTES: u64 = 1 << 20;

/// A parsed image reference: `[registry/]repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReference {
    /// The registry host (and port), e.g. `public.ecr.aws` or `127.0.0.1:5000`;
    /// `registry-1.docker.io` for Docker Hub.
    pub registry: String,
    /// The repository path, e.g. `moby/buildkit` (`library/` added for Docker Hub
    /// official images).
    pub repository: String,
    /// The tag, if given.
    pub tag: Option<String>,
    /// The digest, if given (it wins over the tag when both are).
    pub digest: Option<Digest>,
}

impl ImageReference {
    /// Parses a reference as `docker pull` reads it.
    pub fn parse(text: &str) -> Result<ImageReference> {
        let bad = |reason: &str| Error::Reference {
            reference: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(Digest::parse(digest)?)),
            None => (text, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), path.to_owned())
            }
            _ => ("docker.io".to_owned(), rest.to_owned()),
        };
        let (path, tag) = match path.rsplit_once(':') {
            Some((path, tag)) if !tag.contains('/') => (path.to_owned(), Some(tag.to_owned())),
            _ => (path, None),
        };
        if path.is_empty()
            || !path.split('/').all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
            })
        {
            return Err(bad(
                "the repository must be lowercase path components [a-z0-9._-]",
            ));
        }
        if let Some(tag) = &tag
            && (tag.is_empty()
                || tag.len() > 128
                || !tag
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)))
        {
            return Err(bad("a tag is 1-128 characters of [A-Za-z0-9._-]"));
        }
        if tag.is_none() && digest.is_none() {
            return Err(bad("name a tag or a digest (no implicit `latest`)"));
        }
        let (registry, repository) = if registry == "docker.io" || registry == "index.docker.io" {
            let repository = if path.contains('/') {
                path
            } else {
                format!("library/{path}")
            };
            ("registry-1.docker.io".to_owned(), repository)
        } else {
            (registry, path)
        };
        Ok(ImageReference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The reference for the manifest request: the digest when given, else the tag.
    pub fn reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => digest.to_string(),
            (None, Some(tag)) => tag.clone(),
            (None, None) => String::from("latest"),
        }
    }
}

/// Basic credentials for a registry (or for its token service).
#[derive(Clone)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or access token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"(hidden)")
            .finish()
    }
}

/// Reads one repository of a registry over the distribution API.
#[derive(Debug)]
pub struct RegistryClient {
    http: HttpClient,
    base: String,
    repository: String,
    credentials: Option<Credentials>,
    /// The `Authorization` header value that last worked.
    authorization: Mutex<Option<String>>,
}

impl RegistryClient {
    /// A client for the repository `image` names. Loopback registries (`localhost`,
    /// `127.*`, `[::1]`) are spoken to over plain HTTP, all others over HTTPS.
    pub fn new(image: &ImageReference, credentials: Option<Credentials>) -> Result<RegistryClient> {
        let host = image.registry.as_str();
        let loopback =
            host.starts_with("localhost") || host.starts_with("127.") || host.starts_with("[::1]");
        let scheme = if loopback { "http" } else { "https" };
        Ok(RegistryClient {
            http: HttpClient::new()?,
            base: format!("{scheme}://{host}"),
            repository: image.repository.clone(),
            credentials,
            authorization: Mutex::new(None),
        })
    }

    /// GET with the current authorization; on a 401, authenticate as the challenge asks
    /// and try once more.
    async fn get(&self, url: &str, accept: Option<&str>) -> Result<hyper::Response<Incoming>> {
        let mut retried = false;
        loop {
            let mut headers = Vec::new();
            if let Some(accept) = accept {
                headers.push(("accept", accept.to_owned()));
            }
            if let Some(auth) = self.authorization.lock().await.clone() {
                headers.push(("authorization", auth));
            }
            let response = self.http.get(url, &headers).await?;
            if response.status() != StatusCode::UNAUTHORIZED || retried {
                return Ok(response);
            }
            retried = true;
            let challenge = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let auth = self.authenticate(url, &challenge).await?;
            *self.authorization.lock().await = Some(auth);
        }
    }

    /// The `Authorization` value a challenge asks for.
    async fn authenticate(&self, url: &str, challenge: &str) -> Result<String> {
        let basic = self.credentials.as_ref().map(|c| {
            let raw = format!("{}:{}", c.username, c.password);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        });
        let (scheme, params) = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            return basic.ok_or_else(|| Error::Registry {
                url: redact(url),
                message: "the registry asks for basic credentials and none were given".into(),
            });
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Error::Registry {
                url: redact(url),
                message: format!("HTTP 401 with an unsupported challenge `{challenge}`"),
            });
        }
        let realm = params
            .iter()
            .find(|(k, _)| k == "realm")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Error::Registry {
                url: redact(url),
                message: format!("a Bearer challenge without a realm: `{challenge}`"),
            })?;
        let mut query = Vec::new();
        if let Some((_, service)) = params.iter().find(|(k, _)| k == "service") {
            query.push(format!("service={}", encode_query(service)));
        }
        let scope = params
            .iter()
            .find(|(k, _)| k == "scope")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| format!("repository:{}:pull", self.repository));
        query.push(format!("scope={}", encode_query(&scope)));
        let token_url = format!(
            "{realm}{}{}",
            if realm.contains('?') { "&" } else { "?" },
            query.join("&")
        );
        let mut headers = Vec::new();
        if let Some(basic) = &basic {
            headers.push(("authorization", basic.clone()));
        }
        let response = self.http.get(&token_url, &headers).await?;
        if !response.status().is_success() {
            return Err(Error::Registry {
                url: redact(&token_url),
                message: format!("token request: {}", error_text(response).await),
            });
        }
        let body = read_limited(response, &token_url, MAX_TOKEN_BYTES).await?;
        let json: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| Error::Registry {
                url: redact(&token_url),
                message: format!("the token answer is not JSON: {e}"),
            })?;
        let token = json
            .get("token")
            .or_else(|| json.get("access_token"))
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| Error::Registry {
                url: redact(&token_url),
                message: "the token answer has no `token`".into(),
            })?;
        Ok(format!("Bearer {token}"))
    }
}

impl Source for RegistryClient {
    fn name(&self) -> String {
        format!("{}/{}", self.base, self.repository)
    }

    async fn manifest(&self, reference: &str, media_type: Option<&str>) -> Result<Manifest> {
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repository);
        let response = self
            .get(&url, Some(&MediaType::MANIFESTS.join(", ")))
            .await?;
        if !response.status().is_success() {
            return Err(Error::Registry {
                url,
                message: format!("manifest {reference}: {}", error_text(response).await),
            });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
        let bytes = read_limited(response, &url, MAX_MANIFEST_BYTES).await?;
        // A registry may answer a generic JSON type for a manifest without mediaType; the
        // manifest's own field and the referrer's declaration then decide.
        let declared = content_type
            .as_deref()
            .filter(|t| MediaType::is_manifest(t))
            .or(media_type);
        let manifest =
            Manifest::from_bytes(&format!("{}@{reference}", self.name()), bytes, declared)?;
        if let Ok(wanted) = Digest::parse(reference)
            && wanted != manifest.digest
        {
            return Err(Error::DigestMismatch {
                digest: wanted,
                origin: url,
                actual: manifest.digest.to_string(),
            });
        }
        Ok(manifest)
    }

    async fn blob(&self, descriptor: &Descriptor) -> Result<BlobStream> {
        let mut url = format!(
            "{}/v2/{}/blobs/{}",
            self.base, self.repository, descriptor.digest
        );
        let mut response = self.get(&url, None).await?;
        for _ in 0..MAX_REDIRECTS {
            if !response.status().is_redirection() {
                break;
            }
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| Error::Registry {
                    url: redact(&url),
                    message: "a redirect without a Location".into(),
                })?;
            url = resolve_location(&url, location);
            // Blob storage authorizes with the signed URL itself; our token stays home.
            response = if url.starts_with(&self.base) {
                self.get(&url, None).await?
            } else {
                self.http.get(&url, &[]).await?
            };
        }
        if !response.status().is_success() {
            return Err(Error::Registry {
                url: redact(&url),
                message: format!("blob {}: {}", descriptor.digest, error_text(response).await),
            });
        }
        let origin = format!("{} blob", self.name());
        Ok(verified(body_stream(response, &url), descriptor, origin))
    }
}

/// Splits `Bearer realm="...",service="..."` into the scheme and its parameters.
pub fn parse_challenge(challenge: &str) -> (String, Vec<(String, String)>) {
    let challenge = challenge.trim();
    let (scheme, rest) = challenge.split_once(' ').unwrap_or((challenge, ""));
    let mut params = Vec::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (quoted[..end].to_owned(), &quoted[end + 1..]),
                None => (quoted.to_owned(), ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (after[..end].trim().to_owned(), &after[end..]),
                None => (after.trim().to_owned(), ""),
            }
        };
        params.push((key, value));
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    (scheme.to_owned(), params)
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An absolute URL from a Location header, relative to `base`.
fn resolve_location(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    let origin_end = base
        .find("://")
        .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(base.len());
    if location.starts_with('/') {
        format!("{}{location}", &base[..origin_end])
    } else {
        let dir = base.rfind('/').map(|i| &base[..=i]).unwrap_or(base);
        format!("{dir}{location}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_like_docker_pull() {
        let r = ImageReference::parse("moby/buildkit:v0.16.0").ok();
        assert_eq!(
            r.map(|r| (r.registry, r.repository, r.tag)),
            Some((
                "registry-1.docker.io".into(),
                "moby/buildkit".into(),
                Some("v0.16.0".into())
            ))
        );
        let r = ImageReference::parse("alpine:3.20")
            .ok()
            .map(|r| r.repository);
        assert_eq!(r.as_deref(), Some("library/alpine"));
        let d = format!("sha256:{}", "a".repeat(64));
        let r = ImageReference::parse(&format!("127.0.0.1:5000/a/b:t@{d}")).ok();
        assert_eq!(
            r.map(|r| (r.reference(), r.registry, r.repository)),
            Some((d, "127.0.0.1:5000".into(), "a/b".into()))
        );
        assert!(ImageReference::parse("public.ecr.aws/x/y").is_err());
        assert!(ImageReference::parse("UPPER/case:x").is_err());
    }

    #[test]
    fn bearer_challenges_are_split() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:moby/buildkit:pull""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(
            params,
            vec![
                ("realm".into(), "https://auth.docker.io/token".into()),
                ("service".into(), "registry.docker.io".into()),
                ("scope".into(), "repository:moby/buildkit:pull".into()),
            ]
        );
        assert_eq!(
            encode_query("repository:a/b:pull"),
            "repository%3Aa%2Fb%3Apull"
        );
        assert_eq!(
            resolve_location("http://h:1/v2/a/blobs/x", "/store/y?sig=1"),
            "http://h:1/store/y?sig=1"
        );
    }
}
