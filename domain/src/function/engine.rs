//! The shared, sandboxed rhai engine and the per-call state its callbacks use.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::module_resolvers::DummyModuleResolver;
use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicFnPackage, BasicIteratorPackage, BasicMapPackage,
    BasicStringPackage, LogicPackage, MoreStringPackage, Package,
};
use rhai::{AST, Dynamic, Engine, Scope};
use serde_json::Value;

use super::error::{FunctionError, FunctionErrorKind};
use super::input::{self, DiscountOutput};
use super::{Limits, money};

rhai::def_package! {
    /// What scripts may use: operators, integer arithmetic, comparisons, strings, arrays,
    /// maps, ranges and function pointers. Left out on purpose: `LanguageCorePackage`
    /// (`sleep`, which would block a worker without counting operations; `exit`;
    /// `parse_json`), the time package (non-deterministic), floating-point maths and blobs.
    SandboxPackage(_lib):
        ArithmeticPackage,
        BasicStringPackage,
        BasicIteratorPackage,
        BasicFnPackage,
        LogicPackage,
        BasicArrayPackage,
        BasicMapPackage,
        MoreStringPackage
    {}
}

/// The wall clock is read once per this many operations (a power of two): often enough to
/// stop within microseconds of the deadline, rarely enough to cost nothing measurable.
const CLOCK_CHECK_INTERVAL: u64 = 64;

thread_local! {
    /// The operation count of the run in progress on this thread (the engine is shared, each
    /// run happens on one thread, so per-call state lives here).
    static OPERATIONS: Cell<u64> = const { Cell::new(0) };
    /// When the run in progress must stop.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// `print`/`debug` output of the run in progress.
    static LOGS: RefCell<LogBuffer> = const { RefCell::new(LogBuffer::new()) };
}

/// Bounded log capture: at most `max_lines` lines of at most `max_chars` characters each.
#[derive(Debug, Default)]
struct LogBuffer {
    lines: Vec<String>,
    dropped: usize,
}

impl LogBuffer {
    const fn new() -> Self {
        Self {
            lines: Vec::new(),
            dropped: 0,
        }
    }

    fn push(&mut self, line: &str, max_lines: usize, max_chars: usize) {
        if self.lines.len() >= max_lines {
            self.dropped += 1;
            return;
        }
        let line = match line.char_indices().nth(max_chars) {
            Some((end, _)) => format!("{}…", &line[..end]),
            None => line.to_owned(),
        };
        self.lines.push(line);
    }

    fn into_lines(mut self) -> Vec<String> {
        match self.dropped {
            0 => {}
            1 => self.lines.push("… 1 more line".to_owned()),
            n => self.lines.push(format!("… {n} more lines")),
        }
        self.lines
    }
}

/// Installs fresh per-call state on this thread and puts back whatever was there when it
/// is dropped, so that even a panicking run leaves nothing behind for the next one.
struct CallState {
    saved_operations: u64,
    saved_deadline: Option<Instant>,
    saved_logs: Option<LogBuffer>,
}

impl CallState {
    fn enter(deadline: Option<Instant>) -> Self {
        Self {
            saved_operations: OPERATIONS.replace(0),
            saved_deadline: DEADLINE.replace(deadline),
            saved_logs: Some(LOGS.take()),
        }
    }

    /// The operation count and the captured log of the run.
    fn finish(&self) -> (u64, Vec<String>) {
        (OPERATIONS.get(), LOGS.take().into_lines())
    }
}

impl Drop for CallState {
    fn drop(&mut self) {
        OPERATIONS.set(self.saved_operations);
        DEADLINE.set(self.saved_deadline);
        if let Some(logs) = self.saved_logs.take() {
            LOGS.set(logs);
        }
    }
}

/// A compiled script or condition; cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct CompiledScript {
    ast: Arc<AST>,
}

impl fmt::Debug for CompiledScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledScript").finish_non_exhaustive()
    }
}

/// One run: its outcome, the captured `print`/`debug` lines, the operations it used and
/// how long it took.
#[derive(Debug, Clone)]
pub struct Evaluation<T> {
    pub outcome: Result<T, FunctionError>,
    pub logs: Vec<String>,
    pub operations: u64,
    pub duration: Duration,
}

impl<T> Evaluation<T> {
    fn failed(error: FunctionError, started: Instant) -> Self {
        Self {
            outcome: Err(error),
            logs: Vec::new(),
            operations: 0,
            duration: started.elapsed(),
        }
    }
}

/// One engine, built once and shared (`Send + Sync`), never mutated after construction.
pub struct FunctionRuntime {
    engine: Engine,
    limits: Limits,
}

impl fmt::Debug for FunctionRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionRuntime")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl FunctionRuntime {
    pub fn new(limits: Limits) -> Self {
        let mut engine = Engine::new_raw();
        engine.register_global_module(SandboxPackage::new().as_shared_module());
        money::register(&mut engine);

        // No code from strings, no modules: `eval`, `import` and `export` do not parse, and
        // were they reached another way there is no resolver and no room for a module.
        engine
            .disable_symbol("eval")
            .disable_symbol("import")
            .disable_symbol("export")
            .set_module_resolver(DummyModuleResolver::new())
            .set_max_modules(0)
            .set_strict_variables(true);

        engine
            .set_max_operations(limits.max_operations)
            .set_max_call_levels(limits.max_call_levels)
            .set_max_expr_depths(limits.max_expr_depth, limits.max_function_expr_depth())
            .set_max_string_size(limits.max_string_size)
            .set_max_array_size(limits.max_array_size)
            .set_max_map_size(limits.max_map_size)
            .set_max_variables(limits.max_variables)
            .set_max_functions(limits.max_functions);

        engine.on_progress(|operations| {
            OPERATIONS.set(operations);
            if operations % CLOCK_CHECK_INTERVAL == 0
                && DEADLINE
                    .get()
                    .is_some_and(|deadline| Instant::now() >= deadline)
            {
                return Some(Dynamic::from("timeout"));
            }
            None
        });

        let (max_lines, max_chars) = (limits.max_log_lines, limits.max_log_line_chars);
        engine.on_print(move |text| {
            LOGS.with_borrow_mut(|logs| logs.push(text, max_lines, max_chars))
        });
        engine.on_debug(move |text, _source, position| {
            let line = match (position.line(), position.position()) {
                (Some(line), Some(column)) => {
                    format!("[debug line {line}, column {column}] {text}")
                }
                (Some(line), None) => format!("[debug line {line}] {text}"),
                _ => format!("[debug] {text}"),
            };
            LOGS.with_borrow_mut(|logs| logs.push(&line, max_lines, max_chars));
        });

        Self { engine, limits }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The scope scripts are compiled against: strict variables accept `order` only.
    /// (A plain variable, not a constant, so the optimizer cannot fold its placeholder value.)
    fn compile_scope() -> Scope<'static> {
        let mut scope = Scope::new();
        scope.push("order", ());
        scope
    }

    /// Compiles a discount script (statements; its last expression is the result).
    pub fn compile(&self, script: &str) -> Result<CompiledScript, FunctionError> {
        self.engine
            .compile_with_scope(&Self::compile_scope(), script)
            .map(|ast| CompiledScript { ast: Arc::new(ast) })
            .map_err(|e| FunctionError::compile(&e))
    }

    /// Compiles a boolean expression over `order` (routing conditions, flow choices):
    /// an expression only, no statements.
    pub fn compile_condition(&self, expression: &str) -> Result<CompiledScript, FunctionError> {
        self.engine
            .compile_expression_with_scope(&Self::compile_scope(), expression)
            .map(|ast| CompiledScript { ast: Arc::new(ast) })
            .map_err(|e| FunctionError::compile(&e))
    }

    /// Runs a discount script on `order` (a JSON object with a non-negative integer
    /// `amount_minor`) and applies the output contract and the guardrail.
    pub fn run_discount(
        &self,
        script: &CompiledScript,
        order: &Value,
    ) -> Evaluation<DiscountOutput> {
        let started = Instant::now();
        let original = match input::original_amount(order) {
            Ok(amount) => amount,
            Err(error) => return Evaluation::failed(error, started),
        };
        let (result, logs, operations) = self.evaluate(script, order, started);
        Evaluation {
            outcome: result.and_then(|value| input::discount_output(value, original)),
            logs,
            operations,
            duration: started.elapsed(),
        }
    }

    /// Evaluates a condition on `order` (any JSON value); a non-boolean result is InvalidResult.
    pub fn run_condition(&self, condition: &CompiledScript, order: &Value) -> Evaluation<bool> {
        let started = Instant::now();
        let (result, logs, operations) = self.evaluate(condition, order, started);
        Evaluation {
            outcome: result.and_then(input::condition_output),
            logs,
            operations,
            duration: started.elapsed(),
        }
    }

    /// Runs `script` with `order` in scope under every limit: the result, the captured log
    /// and the operations used.
    fn evaluate(
        &self,
        script: &CompiledScript,
        order: &Value,
        started: Instant,
    ) -> (Result<Dynamic, FunctionError>, Vec<String>, u64) {
        let mut scope = Scope::new();
        scope.push_dynamic("order", input::to_script(order));
        let call = CallState::enter(started.checked_add(self.limits.wall_clock));
        // rhai reports errors as values; a panic would be a bug in rhai, and is reported as a
        // runtime error of this run rather than taking the worker thread down.
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            self.engine
                .eval_ast_with_scope::<Dynamic>(&mut scope, &script.ast)
        }));
        let (operations, logs) = call.finish();
        drop(call);
        let result = match result {
            Ok(result) => result.map_err(|e| FunctionError::runtime(&e, &self.limits)),
            Err(_) => Err(FunctionError::new(
                FunctionErrorKind::RuntimeError,
                "the script engine failed unexpectedly while running this script",
            )),
        };
        (result, logs, operations)
    }
}
