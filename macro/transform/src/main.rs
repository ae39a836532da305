//! Lambda entry point of the `ContainerImageBuild` macro.

use cib_transform::{Config, MacroEvent, MacroResponse, handle, log_line};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = Config::from_env();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<MacroEvent>| {
        let config = config.clone();
        async move {
            let (response, warnings) = handle(&event.payload, &config);
            for warning in &warnings {
                println!("{}", log_line(&event.payload, warning));
            }
            Ok::<MacroResponse, Error>(response)
        }
    }))
    .await
}
