// Hash routes (#/nominations/ID?q=...): static hosting needs no server-side fallback.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  parts: string[];
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path, search] = hash.replace(/^#\/?/, "").split("?");
  return {
    parts: path.split("/").filter(Boolean).map(decodeURIComponent),
    params: new URLSearchParams(search ?? ""),
  };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return route;
}

/// The same screen with other query parameters (filters, search words, page).
export function withParams(route: Route, changes: Record<string, string | null>): string {
  const params = new URLSearchParams(route.params);
  Object.entries(changes).forEach(([k, v]) => (v === null || v === "" ? params.delete(k) : params.set(k, v)));
  const text = params.toString();
  return `#/${route.parts.map(encodeURIComponent).join("/")}${text ? `?${text}` : ""}`;
}
