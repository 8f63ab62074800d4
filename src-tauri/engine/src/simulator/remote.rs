//! A client for a simulator running in another process (`hookscope simulate`), so `hookscope trigger`
//! and the app drive it through its control API with the same types the in-process simulator uses.

use std::time::Duration;

use serde_json::Value;

use super::faults::Fault;
use super::trigger::{TriggerReport, TriggerSpec};
use super::DeliveryRecord;

pub struct SimulatorClient {
    url: String,
    http: reqwest::Client,
}

impl SimulatorClient {
    pub fn new(url: &str) -> anyhow::Result<SimulatorClient> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()?;
        Ok(SimulatorClient {
            url: url.trim_end_matches('/').to_string(),
            http,
        })
    }

    fn unreachable(&self, error: reqwest::Error) -> anyhow::Error {
        anyhow::anyhow!(
            "Cannot reach the Graph simulator at {} ({error}); start it with `hookscope simulate` or point --graph-url at it.",
            self.url
        )
    }

    async fn answer<T: serde::de::DeserializeOwned>(
        &self,
        response: reqwest::Response,
    ) -> anyhow::Result<T> {
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let message = body["error"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!(
                        "The simulator at {} answered {status}; is it a Hookscope simulator?",
                        self.url
                    )
                });
            anyhow::bail!(message);
        }
        Ok(serde_json::from_value(body)?)
    }

    pub async fn trigger(&self, spec: &TriggerSpec) -> anyhow::Result<TriggerReport> {
        let response = self
            .http
            .post(format!("{}/_simulator/trigger", self.url))
            .json(spec)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        self.answer(response).await
    }

    pub async fn deliveries(&self, after: u64) -> anyhow::Result<Vec<DeliveryRecord>> {
        let response = self
            .http
            .get(format!("{}/_simulator/deliveries?after={after}", self.url))
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        self.answer(response).await
    }

    pub async fn add_fault(&self, fault: &Fault) -> anyhow::Result<()> {
        let response = self
            .http
            .post(format!("{}/_simulator/faults", self.url))
            .json(fault)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        if !response.status().is_success() {
            anyhow::bail!("The simulator refused the fault ({}).", response.status());
        }
        Ok(())
    }
}
