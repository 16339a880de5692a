//! What the interpreter asks of the engine: fresh task tokens, and choice conditions
//! compiled once per expression.

use base64::Engine as _;
use domain::function::FunctionRuntime;
use domain::workflow::Environment;
use rand::RngCore;
use serde_json::Value;

use crate::scripts::ConditionCache;

/// A task token: 192 random bits.
fn new_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "tt_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub struct ScriptEnvironment<'a> {
    pub runtime: &'a FunctionRuntime,
    pub conditions: &'a ConditionCache,
}

impl Environment for ScriptEnvironment<'_> {
    fn new_token(&mut self) -> String {
        new_token()
    }

    fn condition(
        &mut self,
        _step: &str,
        _index: usize,
        expression: &str,
        input: &Value,
    ) -> Result<bool, String> {
        let compiled = self.conditions.compiled(self.runtime, expression)?;
        self.runtime
            .run_condition(&compiled, input)
            .outcome
            .map_err(|e| e.message)
    }
}
