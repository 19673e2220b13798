// A tiny typed GraphQL client over fetch: errors are typed by their `extensions.code`
// (docs/api.md, "Errors"), so a caller never matches message text.
import type { ErrorCode } from "./generated/graphql";

export type { ErrorCode };

export interface ApiError {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: {
    code?: ErrorCode;
    /** The argument at fault, in the schema's spelling (`asOf`, `polls[1].timestampUtc`). */
    argument?: string;
    variable?: string;
    retryAfter?: number;
    [key: string]: unknown;
  };
}

export interface Result<TData> {
  /** null when the request was refused as a whole (validation, price, variables). */
  data: TData | null;
  errors: ApiError[];
  extensions?: { cost?: { nodes: number; limit: number } };
}

const HTTP_CODES: Partial<Record<number, ErrorCode>> = { 401: "UNAUTHENTICATED", 403: "FORBIDDEN" };

export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  headers(): Record<string, string> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (this.token) headers["Authorization"] = `Bearer ${this.token}`;
    return headers;
  }

  async request<TData, TVariables>(document: string, variables: TVariables): Promise<Result<TData>> {
    const response = await fetch(`${this.baseUrl}/graphql/`, {
      method: "POST",
      headers: this.headers(),
      body: JSON.stringify({ query: document, variables }),
    });
    const body = (await response.json()) as {
      data?: TData | null;
      errors?: ApiError[];
      error?: string;
      extensions?: Result<TData>["extensions"];
    };
    // 401 and 403 are answered before GraphQL runs ({"error": "…"}): coded here the same way.
    const httpCode = HTTP_CODES[response.status];
    if (httpCode !== undefined && body.errors === undefined) {
      return { data: null, errors: [{ message: body.error ?? response.statusText, extensions: { code: httpCode } }] };
    }
    return { data: body.data ?? null, errors: body.errors ?? [], extensions: body.extensions ?? {} };
  }

  /** The data of a request that must succeed entirely; throws with every error's code. */
  async data<TData, TVariables>(document: string, variables: TVariables): Promise<TData> {
    const result = await this.request<TData, TVariables>(document, variables);
    if (result.errors.length > 0 || result.data === null) {
      const codes = result.errors.map((e) => `${e.extensions?.code ?? "?"}: ${e.message}`).join("; ");
      throw new Error(`GraphQL request failed: ${codes}`);
    }
    return result.data;
  }

  async download(url: string): Promise<{ status: number; text: string }> {
    const response = await fetch(url, { headers: this.token ? { Authorization: `Bearer ${this.token}` } : {} });
    return { status: response.status, text: await response.text() };
  }
}

/** The first error with this code, if any. */
export function errorWithCode(errors: ApiError[], code: ErrorCode): ApiError | undefined {
  return errors.find((error) => error.extensions?.code === code);
}
