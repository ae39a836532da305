//! CodeBuild: how long one build took.

use aws_sdk_codebuild::Client;

use super::describe;

/// The seconds build `id` ran from start to end (`codebuild:BatchGetBuilds`); `None` when
/// CodeBuild no longer knows it or it has not ended.
pub async fn build_seconds(client: &Client, id: &str) -> Result<Option<u64>, String> {
    let out = client
        .batch_get_builds()
        .ids(id)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read build {id} (codebuild:BatchGetBuilds): {}",
                describe(&e)
            )
        })?;
    Ok(out.builds().first().and_then(|b| {
        let (start, end) = (b.start_time()?, b.end_time()?);
        u64::try_from(end.secs() - start.secs()).ok()
    }))
}
