//! The bare-SDK baseline for `get`: builds the DynamoDB client the default way
//! (`aws_config::load_defaults`) in `main`, then answers every request with one `GetItem` of a
//! room item (`TABLE_NAME`, key `ROOM#{BENCH_ROOM_ID}` / `ROOM`). `get` must start no slower.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = std::env::var("TABLE_NAME")?;
    let room = std::env::var("BENCH_ROOM_ID")?;
    let (client, table, room) = (&client, &table, &room);
    lambda_http::run(service_fn(move |_req: Request| async move {
        let out = client
            .get_item()
            .table_name(table)
            .key("pk", AttributeValue::S(format!("ROOM#{room}")))
            .key("sk", AttributeValue::S("ROOM".to_owned()))
            .consistent_read(true)
            .send()
            .await?;
        let found = out.item.is_some();
        Ok::<_, Error>(Response::new(Body::Text(format!("{{\"found\":{found}}}"))))
    }))
    .await
}
