//! Build platforms and what each runs on.

use serde_json::Value;

/// A native build platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum Platform {
    /// `linux/amd64` on x86_64 CodeBuild hosts.
    #[default]
    Amd64,
    /// `linux/arm64` on Graviton CodeBuild hosts.
    Arm64,
}

impl Platform {
    /// Parses `linux/amd64` or `linux/arm64`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "linux/amd64" => Some(Platform::Amd64),
            "linux/arm64" => Some(Platform::Arm64),
            _ => None,
        }
    }

    /// The Docker platform string.
    pub fn docker_name(self) -> &'static str {
        match self {
            Platform::Amd64 => "linux/amd64",
            Platform::Arm64 => "linux/arm64",
        }
    }

    /// The Lambda architecture that runs this platform's images.
    pub fn lambda_architecture(self) -> &'static str {
        match self {
            Platform::Amd64 => "x86_64",
            Platform::Arm64 => "arm64",
        }
    }

    /// Suffix used in generated logical IDs.
    pub fn id_suffix(self) -> &'static str {
        match self {
            Platform::Amd64 => "Amd64",
            Platform::Arm64 => "Arm64",
        }
    }

    /// CodeBuild environment type.
    pub fn codebuild_environment_type(self) -> &'static str {
        match self {
            Platform::Amd64 => "LINUX_CONTAINER",
            Platform::Arm64 => "ARM_CONTAINER",
        }
    }

    /// The curated CodeBuild image (Amazon Linux 2023) for this platform.
    pub fn codebuild_image(self) -> &'static str {
        match self {
            Platform::Amd64 => "aws/codebuild/amazonlinux-x86_64-standard:5.0",
            Platform::Arm64 => "aws/codebuild/amazonlinux-aarch64-standard:3.0",
        }
    }

    /// Default compute type: image builds want memory, and Graviton hosts were long
    /// offered only in SMALL and LARGE.
    pub fn default_compute_type(self) -> &'static str {
        match self {
            Platform::Amd64 => "BUILD_GENERAL1_MEDIUM",
            Platform::Arm64 => "BUILD_GENERAL1_LARGE",
        }
    }

    /// The platform as a JSON string.
    pub fn to_value(self) -> Value {
        Value::String(self.docker_name().to_owned())
    }
}
