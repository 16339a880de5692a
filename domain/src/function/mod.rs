//! Discount functions: merchants' rhai scripts, run in a sandbox.
//!
//! A [`FunctionRuntime`] holds one engine, built once and shared between threads. Scripts
//! are compiled once ([`CompiledScript`], cheap to clone) and run many times.
//!
//! # What a script sees
//!
//! One variable, `order`: a map built from the order JSON (`amount_minor`, `currency`,
//! `method`, `merchant_id`, `items`, `fields`, and whatever else the caller passes).
//! `order.amount_minor` must be a non-negative integer or the run fails
//! (`Function.RuntimeError`) before the script starts. Integers are `i64`; money stays
//! integral.
//!
//! # What a script returns
//!
//! Its last expression: the final amount as an integer, or a map
//! `#{amount_minor: <integer>, label: <string>}` (`label` optional, at most 200 characters;
//! other keys are rejected to catch typos). Anything else — a float, a string, `()`, a map
//! without `amount_minor` — is `Function.InvalidResult`, and so is a final amount outside
//! `0 ..= order.amount_minor` (the guardrail: a discount never raises the price).
//! A condition ([`FunctionRuntime::compile_condition`]) is one expression that must
//! produce `true` or `false`.
//!
//! # Helpers
//!
//! Integer-only, checked: an overflow or a bad argument is a runtime error, never a panic.
//!
//! - `percent_of(amount, pct)`: `pct` % of `amount`, rounded half up to the minor unit
//!   (80 % of 9999 = 7999, 50 % of 9999 = 5000, 70 % of 5 = 4, 50 % of 1 = 1). `amount ≥ 0`,
//!   `0 ≤ pct ≤ 10000`.
//! - `amount_off(amount, off)`: `amount - off`, never below 0 (`amount, off ≥ 0`).
//! - `clamp(value, low, high)`: `value` limited to `low ..= high` (`low ≤ high`).
//! - `min(a, b)`, `max(a, b)`.
//!
//! plus rhai's operators, comparisons, strings, arrays, maps, ranges, `for`/`while`/`loop`,
//! functions (`fn`), closures, `throw`, `print` and `debug`.
//!
//! # Sandbox
//!
//! The engine starts from `Engine::new_raw()` with only the packages above: there is no
//! file, network, process, time or `sleep` function. `eval`, `import` and `export` do not
//! compile (and there is no module resolver). Variables are strict: a script may use only
//! `order` and what it defines. Every limit in [`Limits`] is set — operations, call depth,
//! expression depth, string/array/map sizes, variables, functions — plus a wall clock,
//! checked from rhai's progress callback against a per-call deadline kept in a thread-local
//! (the engine is shared; a run stays on one thread). `print` and `debug` go to the
//! [`Evaluation::logs`] of the run (bounded), never to stdout.
//!
//! # Errors
//!
//! [`FunctionErrorKind`]: `CompileError` (with line and column), `RuntimeError`,
//! `LimitExceeded` (operations, call depth, sizes, variables), `Timeout` (wall clock),
//! `InvalidResult` (output contract, guardrail).

mod document;
mod engine;
mod error;
mod input;
mod limits;
mod money;

#[cfg(test)]
mod tests;

pub use engine::{CompiledScript, Evaluation, FunctionRuntime};
pub use error::{FunctionError, FunctionErrorKind};
pub use input::DiscountOutput;
pub use limits::Limits;
pub use money::percent_of;
