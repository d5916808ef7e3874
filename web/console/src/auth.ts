// Sign-in: the authorization-code flow with PKCE against the configured OpenID Connect issuer,
// or a pasted development token (scripts/token) when none is configured. The token lives in
// sessionStorage: closing the tab signs out.
import { config } from "./config";

export type Role = "viewer" | "staff" | "admin" | "service";

export interface Session {
  token: string;
  subject: string;
  name: string;
  roles: Role[];
  expires: number; // epoch seconds
}

const TOKEN_KEY = "jilaf.console.token";
const PKCE_KEY = "jilaf.console.pkce";
const KNOWN: Role[] = ["viewer", "staff", "admin", "service"];

function base64url(bytes: Uint8Array): string {
  let text = "";
  bytes.forEach((b) => (text += String.fromCharCode(b)));
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodePart(part: string): Record<string, unknown> {
  const padded = part.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(padded + "===".slice((padded.length + 3) % 4));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

/// The roles a token carries, mapped as the services map them: a development token's `roles`,
/// a provider's realm and client roles through config.json's role_map.
export function rolesOf(claims: Record<string, unknown>): Role[] {
  const names = new Set<string>();
  const add = (list: unknown) => Array.isArray(list) && list.forEach((r) => names.add(String(r)));
  add(claims.roles);
  add((claims.realm_access as { roles?: unknown } | undefined)?.roles);
  const clients = claims.resource_access as Record<string, { roles?: unknown }> | undefined;
  Object.values(clients ?? {}).forEach((c) => add(c.roles));
  const map = config().role_map;
  const roles = new Set<Role>();
  names.forEach((n) => {
    const mapped = map[n] ?? n;
    if ((KNOWN as string[]).includes(mapped)) roles.add(mapped as Role);
  });
  return [...roles];
}

export function sessionFromToken(token: string): Session {
  const parts = token.trim().split(".");
  if (parts.length !== 3) throw new Error("not a JWT");
  const claims = decodePart(parts[1]);
  const subject = String(claims.preferred_username ?? claims.sub ?? "");
  return {
    token: token.trim(),
    subject,
    name: String(claims.name ?? subject),
    roles: rolesOf(claims),
    expires: Number(claims.exp ?? 0),
  };
}

export function currentSession(): Session | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  try {
    const session = sessionFromToken(token);
    if (session.expires * 1000 <= Date.now()) return null;
    return session;
  } catch {
    return null;
  }
}

export function storeToken(token: string): Session {
  const session = sessionFromToken(token);
  sessionStorage.setItem(TOKEN_KEY, session.token);
  return session;
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

async function discover(issuer: string): Promise<Discovery> {
  const response = await fetch(issuer.replace(/\/$/, "") + "/.well-known/openid-configuration");
  if (!response.ok) throw new Error(`discovery: ${response.status}`);
  return (await response.json()) as Discovery;
}

function redirectUri(): string {
  return window.location.origin + window.location.pathname;
}

/// Sends the browser to the provider's sign-in page; comes back with ?code=&state=.
export async function beginSignIn(returnTo: string): Promise<void> {
  const oidc = config().oidc;
  if (!oidc) throw new Error("no identity provider configured");
  const found = await discover(oidc.issuer);
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(found.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: oidc.client_id,
    redirect_uri: redirectUri(),
    scope: oidc.scope ?? "openid profile",
    state,
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: "S256",
  }).toString();
  window.location.assign(url.toString());
}

/// On return from the provider: trades the code for a token. Null when this is no such return.
export async function completeSignIn(): Promise<{ session: Session; returnTo: string } | null> {
  const params = new URLSearchParams(window.location.search);
  const code = params.get("code");
  const oidc = config().oidc;
  if (!code || !oidc) return null;
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? "null") as {
    verifier: string;
    state: string;
    returnTo: string;
  } | null;
  sessionStorage.removeItem(PKCE_KEY);
  window.history.replaceState(null, "", redirectUri() + window.location.hash);
  if (!saved || saved.state !== params.get("state")) throw new Error("sign-in state mismatch");
  const found = await discover(oidc.issuer);
  const response = await fetch(found.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri(),
      client_id: oidc.client_id,
      code_verifier: saved.verifier,
    }),
  });
  if (!response.ok) throw new Error(`token endpoint: ${response.status}`);
  const body = (await response.json()) as { access_token: string };
  return { session: storeToken(body.access_token), returnTo: saved.returnTo };
}

export function can(session: Session | null, what: "write" | "admin"): boolean {
  if (!session) return false;
  if (what === "admin") return session.roles.includes("admin");
  return session.roles.includes("staff") || session.roles.includes("admin");
}
