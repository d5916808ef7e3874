// The one way the console calls the services: their public APIs, with the session's token.
// 429 and 503 wait for Retry-After and try again; 401 asks the app to sign in again; every other
// error becomes an ApiError carrying the RFC 9457 problem for the screen to explain.
import { config, type Service } from "./config";
import { currentSession } from "./auth";

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  [member: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
  kind(): string {
    return (this.problem.type ?? "").replace(/^.*\/problems\//, "");
  }
}

export interface Answer<T> {
  data: T;
  etag: string | null;
}

export interface Page<T> {
  items: T[];
  next_page_token?: string;
}

type Listener = (waitSeconds: number | null) => void;
const waitListeners = new Set<Listener>();
/// Screens show "waiting N s" while a 429 or 503 is being waited out.
export function onRetryWait(listener: Listener): () => void {
  waitListeners.add(listener);
  return () => waitListeners.delete(listener);
}

export const SIGNED_OUT_EVENT = "jilaf:signed-out";
const MAX_RETRIES = 5;

function retryAfterSeconds(response: Response): number {
  const header = response.headers.get("Retry-After") ?? "1";
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.min(Math.max(seconds, 0), 60);
  const date = Date.parse(header);
  return Number.isNaN(date) ? 1 : Math.min(Math.max((date - Date.now()) / 1000, 0), 60);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface CallOptions {
  body?: unknown;
  ifMatch?: string | null;
  idempotencyKey?: string;
  accept?: string;
}

async function send(service: Service, method: string, path: string, options: CallOptions) {
  const headers: Record<string, string> = { Accept: options.accept ?? "application/json" };
  const session = currentSession();
  if (session) headers.Authorization = `Bearer ${session.token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.ifMatch) headers["If-Match"] = options.ifMatch;
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(config().api[service] + path, { method, headers, body });
    if ((response.status !== 429 && response.status !== 503) || attempt >= MAX_RETRIES) {
      return response;
    }
    const wait = retryAfterSeconds(response);
    waitListeners.forEach((l) => l(wait));
    await sleep(wait * 1000);
    waitListeners.forEach((l) => l(null));
  }
}

async function problemOf(response: Response): Promise<Problem> {
  try {
    return (await response.json()) as Problem;
  } catch {
    return { status: response.status, title: response.statusText };
  }
}

export async function call<T>(
  service: Service,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer<T>> {
  const response = await send(service, method, path, options);
  if (response.status === 401) window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  const etag = response.headers.get("ETag");
  if (response.status === 204) return { data: undefined as T, etag };
  const type = response.headers.get("Content-Type") ?? "";
  const data = (type.includes("json") ? await response.json() : await response.text()) as T;
  return { data, etag };
}

export const get = <T>(service: Service, path: string) => call<T>(service, "GET", path);

/// Every page of a list (the screens that count seats need all of a programme's nominations).
export async function getAll<T>(service: Service, path: string, limit = 2000): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const pageToken = token ? `&page_token=${encodeURIComponent(token)}` : "";
    const page = (await get<Page<T>>(service, `${path}${sep}page_size=200${pageToken}`)).data;
    items.push(...page.items);
    token = page.next_page_token;
  } while (token && items.length < limit);
  return items;
}

/// A list as CSV (the services' own CSV), saved through the browser.
export async function downloadCsv(service: Service, path: string, filename: string) {
  const response = await send(service, "GET", path, { accept: "text/csv" });
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  Object.entries(params).forEach(([k, v]) => {
    if (v !== undefined && v !== null && v !== "") search.set(k, String(v));
  });
  const text = search.toString();
  return text ? `?${text}` : "";
}
