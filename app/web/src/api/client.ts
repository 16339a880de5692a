// The typed API client. `schema.d.ts` is generated from openapi/openapi.json by
// `npm run api` (part of `npm run build`), so a contract change that breaks the console
// breaks its build.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
/** One problem of a 422: a JSON pointer and a message, plus a script position when it has one. */
export type Violation = Schemas["ProblemViolation"];

let apiKey: string | null = null;

/** Sets the key every request carries (the session calls this on sign-in and sign-out). */
export function setApiKey(key: string | null) {
  apiKey = key;
}

const auth: Middleware = {
  onRequest({ request }) {
    if (apiKey) request.headers.set("Authorization", `Bearer ${apiKey}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

/** Thrown by `unwrap` for any non-2xx answer: the problem+json body, when there is one. */
export class ApiProblem extends Error {
  constructor(
    public readonly status: number,
    public readonly problem: Partial<Problem>,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }

  /** The violations of a 422, each at its JSON pointer. */
  get violations(): Violation[] {
    return this.problem.errors ?? [];
  }
}

/** Turns an openapi-fetch result into its data, or throws ApiProblem. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) {
    const problem = (error && typeof error === "object" ? error : {}) as Partial<Problem>;
    throw new ApiProblem(response.status, problem);
  }
  return data as T;
}
