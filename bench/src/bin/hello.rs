//! The hello-world baseline: a `lambda_http` function that answers every request with a fixed
//! JSON body. Cold start of the project's functions is measured against this binary, built
//! with the same profile.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_req: Request| async {
        Ok::<_, Error>(Response::new(Body::Text(
            "{\"hello\":\"world\"}".to_owned(),
        )))
    }))
    .await
}
