//! The resource limits every script runs under.

use std::time::Duration;

/// The limits a [`FunctionRuntime`](super::FunctionRuntime) enforces on every compile and run.
///
/// rhai treats `0` as "unlimited" for its own limits; [`Limits::default`] sets every one of
/// them, and the wall clock always applies.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Operations (roughly: expressions and statements evaluated) per run.
    pub max_operations: u64,
    /// Nested function calls (script functions calling each other, recursion).
    pub max_call_levels: usize,
    /// Expression nesting depth at the top level; functions get half of it.
    pub max_expr_depth: usize,
    /// Bytes in one string (and in all the strings of one array or map together).
    pub max_string_size: usize,
    /// Items in one array (nested arrays counted together).
    pub max_array_size: usize,
    /// Entries in one object map (nested maps counted together).
    pub max_map_size: usize,
    /// Variables alive at once.
    pub max_variables: usize,
    /// Functions a script may define.
    pub max_functions: usize,
    /// Wall-clock time per run; past it the run stops with `Function.Timeout`.
    pub wall_clock: Duration,
    /// Lines of `print`/`debug` output kept per run; later lines are counted in one note.
    pub max_log_lines: usize,
    /// Characters kept of one log line; longer lines are cut and marked with `…`.
    pub max_log_line_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: 200_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_string_size: 65_536,
            max_array_size: 10_000,
            max_map_size: 10_000,
            max_variables: 256,
            max_functions: 64,
            wall_clock: Duration::from_millis(50),
            max_log_lines: 100,
            max_log_line_chars: 1_000,
        }
    }
}

impl Limits {
    /// The expression depth allowed inside script-defined functions: half the global one
    /// (at least 1; 0, rhai's "unlimited", stays 0).
    pub fn max_function_expr_depth(&self) -> usize {
        match self.max_expr_depth {
            0 => 0,
            depth => (depth / 2).max(1),
        }
    }
}
