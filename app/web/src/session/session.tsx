// Who is signed in: the API key (kept in sessionStorage, so it ends with the tab) and what
// GET /v1/me says about it.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { api, setApiKey, unwrap, type Schemas } from "../api/client";

const STORAGE_KEY = "orderflow.apiKey";

export type CurrentKey = Schemas["CurrentKey"];

type SessionState =
  | { status: "loading" }
  | { status: "signed-out" }
  | { status: "signed-in"; me: CurrentKey };

interface Session {
  state: SessionState;
  /** Checks the key with GET /v1/me; throws ApiProblem when it is refused. */
  signIn(key: string): Promise<CurrentKey>;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

async function whoAmI(key: string): Promise<CurrentKey> {
  setApiKey(key);
  try {
    return await unwrap(api.GET("/v1/me"));
  } catch (e) {
    setApiKey(null);
    throw e;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>(() =>
    sessionStorage.getItem(STORAGE_KEY) ? { status: "loading" } : { status: "signed-out" },
  );

  useEffect(() => {
    const stored = sessionStorage.getItem(STORAGE_KEY);
    if (!stored) return;
    whoAmI(stored)
      .then((me) => setState({ status: "signed-in", me }))
      .catch(() => {
        sessionStorage.removeItem(STORAGE_KEY);
        setState({ status: "signed-out" });
      });
  }, []);

  const signIn = useCallback(async (key: string) => {
    const me = await whoAmI(key.trim());
    sessionStorage.setItem(STORAGE_KEY, key.trim());
    setState({ status: "signed-in", me });
    return me;
  }, []);

  const signOut = useCallback(() => {
    sessionStorage.removeItem(STORAGE_KEY);
    setApiKey(null);
    setState({ status: "signed-out" });
  }, []);

  return (
    <SessionContext.Provider value={{ state, signIn, signOut }}>{children}</SessionContext.Provider>
  );
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

/** The signed-in key; only for components rendered inside RequireSignIn. */
export function useMe(): CurrentKey {
  const { state } = useSession();
  if (state.status !== "signed-in") throw new Error("useMe while not signed in");
  return state.me;
}
