// Sign in with an API key. The key is checked with GET /v1/me and kept in sessionStorage (it
// ends with the tab); the API's refusal (401) is shown as it says it.
import { useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";
import { ApiProblem } from "../api/client";
import { useSession } from "../session/session";

export function SignInPage() {
  const { state, signIn } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from;
  const [key, setKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ title: string; detail?: string } | null>(null);

  if (state.status === "signed-in") return <Navigate to={from && from !== "/sign-in" ? from : "/"} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!key.trim()) {
      setError({ title: "Enter an API key." });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(key);
      navigate(from && from !== "/sign-in" ? from : "/", { replace: true });
    } catch (e) {
      setError(
        e instanceof ApiProblem
          ? {
              title: e.status === 401 ? "That key was not accepted" : (e.problem.title ?? `HTTP ${e.status}`),
              detail: e.problem.detail,
            }
          : { title: "Could not reach the server", detail: e instanceof Error ? e.message : String(e) },
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in" id="main">
      <div className="card">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" style={{ color: "#fff" }}>
            of
          </span>
          <span>orderflow · merchant admin</span>
        </div>
        <h1>Sign in</h1>
        <p className="muted">
          Use a platform admin or merchant admin API key. It is kept in this tab only and forgotten when you close it.
        </p>
        <form onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor="api-key">API key</label>
            <input
              id="api-key"
              name="api-key"
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={key}
              onChange={(e) => setKey(e.target.value)}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? "sign-in-error" : "api-key-hint"}
              autoFocus
            />
            <span className="hint" id="api-key-hint">
              Sent as <code>Authorization: Bearer …</code>
            </span>
          </div>
          {error && (
            <div role="alert" id="sign-in-error" className="state state-error">
              <strong>{error.title}</strong>
              {error.detail && <span> — {error.detail}</span>}
            </div>
          )}
          <button type="submit" className="btn btn-primary" disabled={busy} style={{ width: "100%" }}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
      </div>
    </main>
  );
}
