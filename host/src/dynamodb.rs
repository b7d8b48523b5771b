//! The few DynamoDB and DynamoDB Streams calls the host makes itself, on the local
//! DynamoDB-compatible server: the table created from the template's definition
//! (`CreateTable`, `UpdateTimeToLive`) and the stream read for the event source mapping
//! (`DescribeTable`, `DescribeStream`, `GetShardIterator`, `GetRecords`).
//!
//! The JSON protocol over plain HTTP, unsigned (a local server checks no signature; the
//! `Authorization` header only names the service, which moto's server routes by). The functions
//! never come here: they use the AWS SDK, as in AWS.
//!
//! Never here: what the records mean or who gets them (`crate::stream`); the template
//! (`crate::template`).

use serde_json::{Value, json};

use crate::template::Table;

/// A client of one local DynamoDB-compatible endpoint.
#[derive(Clone)]
pub struct Dynamo {
    endpoint: String,
    http: reqwest::Client,
}

/// A DynamoDB error: its `__type` (without the namespace) and message.
#[derive(Debug)]
pub struct Error {
    pub kind: String,
    pub message: String,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl Dynamo {
    pub fn new(endpoint: &str) -> Self {
        Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// One call: `target` is `DynamoDB_20120810.CreateTable` or
    /// `DynamoDBStreams_20120810.GetRecords`.
    pub async fn call(&self, target: &str, body: &Value) -> Result<Value, Error> {
        let date = chrono::Utc::now();
        let answer = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", target)
            .header("x-amz-date", date.format("%Y%m%dT%H%M%SZ").to_string())
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=local/{}/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0",
                    date.format("%Y%m%d")
                ),
            )
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| Error {
                kind: "Connection".to_owned(),
                message: e.to_string(),
            })?;
        let ok = answer.status().is_success();
        let text = answer.text().await.map_err(|e| Error {
            kind: "Connection".to_owned(),
            message: e.to_string(),
        })?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if ok {
            return Ok(value);
        }
        let kind = value["__type"].as_str().unwrap_or("Unknown");
        Err(Error {
            kind: kind.rsplit('#').next().unwrap_or(kind).to_owned(),
            message: value["message"]
                .as_str()
                .or(value["Message"].as_str())
                .unwrap_or(&text)
                .to_owned(),
        })
    }

    async fn db(&self, op: &str, body: Value) -> Result<Value, Error> {
        self.call(&format!("DynamoDB_20120810.{op}"), &body).await
    }

    pub async fn streams(&self, op: &str, body: Value) -> Result<Value, Error> {
        self.call(&format!("DynamoDBStreams_20120810.{op}"), &body)
            .await
    }

    /// Creates `name` as the template defines its table, with its TTL; `false` if it exists
    /// already (it is kept as it is).
    pub async fn create_table(&self, table: &Table, name: &str) -> Result<bool, Error> {
        let mut request = table.create.clone();
        request["TableName"] = json!(name);
        match self.db("CreateTable", request).await {
            Ok(_) => {}
            Err(e) if e.kind == "ResourceInUseException" => return Ok(false),
            Err(e) => return Err(e),
        }
        if let Some(attribute) = &table.ttl_attribute {
            self.db(
                "UpdateTimeToLive",
                json!({
                    "TableName": name,
                    "TimeToLiveSpecification": { "AttributeName": attribute, "Enabled": true },
                }),
            )
            .await?;
        }
        Ok(true)
    }

    /// The table's description (`DescribeTable`'s `Table`).
    pub async fn describe_table(&self, name: &str) -> Result<Value, Error> {
        let answer = self
            .db("DescribeTable", json!({ "TableName": name }))
            .await?;
        Ok(answer["Table"].clone())
    }
}
