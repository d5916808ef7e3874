// The runtime configuration: config.json served beside the app, so one build serves every
// deployment (docs/console.md).
export type Service = "invitations" | "projects" | "missions" | "notifications";

export interface OidcConfig {
  issuer: string; // e.g. http://127.0.0.1:8180/realms/jilaf
  client_id: string; // a public client with PKCE (S256)
  scope?: string;
}

export interface Config {
  api: Record<Service, string>;
  oidc: OidcConfig | null;
  role_map: Record<string, string>;
  time_zone: string;
  inbox_poll_seconds: number;
}

let loaded: Config | null = null;

export async function loadConfig(): Promise<Config> {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: ${response.status}`);
  const raw = (await response.json()) as Partial<Config>;
  loaded = {
    api: raw.api as Record<Service, string>,
    oidc: raw.oidc ?? null,
    role_map: raw.role_map ?? {},
    time_zone: raw.time_zone ?? "Asia/Tokyo",
    inbox_poll_seconds: raw.inbox_poll_seconds ?? 10,
  };
  return loaded;
}

export function config(): Config {
  if (!loaded) throw new Error("config not loaded");
  return loaded;
}
